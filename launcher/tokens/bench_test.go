package tokens

import (
	"context"
	"testing"
	"time"
)

// BenchmarkWarmGet is a launch's token step when the token is cached.
func BenchmarkWarmGet(b *testing.B) {
	c := New(&counter{life: time.Hour}, Options{})
	defer c.Close()
	ctx := context.Background()
	c.Get(ctx, dr)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, dr); err != nil {
			b.Fatal(err)
		}
	}
}
