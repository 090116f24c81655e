package tray

import "encoding/binary"

// platformIcon wraps the PNG in an ICO container: the Windows tray loads
// only .ico data (a PNG-compressed entry is valid ICO since Vista).
func platformIcon(png []byte) []byte {
	const size = 64
	ico := []byte{0, 0, 1, 0, 1, 0, size, size, 0, 0, 1, 0, 32, 0}
	ico = binary.LittleEndian.AppendUint32(ico, uint32(len(png)))
	ico = binary.LittleEndian.AppendUint32(ico, 22)
	return append(ico, png...)
}
