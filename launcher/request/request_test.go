package request

import (
	"strings"
	"testing"
)

func valid() Open {
	return Open{Clinician: Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: "AU"},
		Patient: &Patient{ID: "P1", Name: "Jane Citizen", DOB: "1984-03-09", Gender: "female"}, EncounterID: "E1", Context: "Allergies: penicillin\nMeds: none"}
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name  string
		mod   func(o *Open)
		field string // "" = valid
	}{
		{"valid", func(o *Open) {}, ""},
		{"no patient", func(o *Open) { o.Patient = nil }, ""},
		{"email missing", func(o *Open) { o.Email = "" }, "email"},
		{"email no at", func(o *Open) { o.Email = "dr.a.clinic.example" }, "email"},
		{"email two ats", func(o *Open) { o.Email = "a@b@clinic.example" }, "email"},
		{"email no dot", func(o *Open) { o.Email = "a@localhost" }, "email"},
		{"email too long", func(o *Open) { o.Email = strings.Repeat("a", 60) + "@" + strings.Repeat("b", 190) + ".com" }, "email"},
		{"email cyrillic a", func(o *Open) { o.Email = "dr.\u0430@clinic.example" }, "email"},
		{"email space", func(o *Open) { o.Email = "dr a@clinic.example" }, "email"},
		{"email newline", func(o *Open) { o.Email = "dr@clinic.example\nX" }, "email"},
		{"email leading dash domain", func(o *Open) { o.Email = "a@-clinic.example" }, "email"},
		{"user id missing", func(o *Open) { o.UserID = "" }, "user_id"},
		{"user id too long", func(o *Open) { o.UserID = strings.Repeat("1", 129) }, "user_id"},
		{"user id max", func(o *Open) { o.UserID = strings.Repeat("1", 128) }, ""},
		{"user id control", func(o *Open) { o.UserID = "4\x002" }, "user_id"},
		{"user id padded", func(o *Open) { o.UserID = " 42" }, "user_id"},
		{"region unknown", func(o *Open) { o.Region = "NZ" }, "region"},
		{"patient id missing", func(o *Open) { o.Patient.ID = "" }, "patient_id"},
		{"patient name missing", func(o *Open) { o.Patient.Name = "  " }, "patient_name"},
		{"patient name unicode", func(o *Open) { o.Patient.Name = "Zoë Ngā-Tāne 王" }, ""},
		{"patient name too long", func(o *Open) { o.Patient.Name = strings.Repeat("é", 201) }, "patient_name"},
		{"patient name newline", func(o *Open) { o.Patient.Name = "Jane\nCitizen" }, "patient_name"},
		{"patient name bidi override", func(o *Open) { o.Patient.Name = "Jane\u202eCitizen" }, "patient_name"},
		{"dob not a date", func(o *Open) { o.Patient.DOB = "1984-02-30" }, "patient_dob"},
		{"dob wrong format", func(o *Open) { o.Patient.DOB = "09/03/1984" }, "patient_dob"},
		{"dob future", func(o *Open) { o.Patient.DOB = "2999-01-01" }, "patient_dob"},
		{"dob ancient", func(o *Open) { o.Patient.DOB = "1066-10-14" }, "patient_dob"},
		{"gender bad", func(o *Open) { o.Patient.Gender = "m" }, "patient_gender"},
		{"encounter too long", func(o *Open) { o.EncounterID = strings.Repeat("e", 129) }, "encounter_id"},
		{"context too long", func(o *Open) { o.Context = strings.Repeat("c", MaxContext+1) }, "context"},
		{"context control", func(o *Open) { o.Context = "a\x1bb" }, "context"},
		{"context invalid utf8", func(o *Open) { o.Context = "a\xffb" }, "context"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			p := *o.Patient
			o.Patient = &p
			tc.mod(&o)
			err := o.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			re, ok := err.(*Error)
			if !ok || re.Field != tc.field {
				t.Fatalf("want an error on %s, got %v", tc.field, err)
			}
			if len(re.Error()) > 300 {
				t.Fatalf("error too long to be clear: %q", re.Error())
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	o := valid()
	o.Region, o.Email, o.Patient.Gender = "", "Dr.A@Clinic.Example", " Female "
	if err := o.Normalize("eu"); err != nil {
		t.Fatal(err)
	}
	if o.Region != "EU" || o.Email != "dr.a@clinic.example" || o.Patient.Gender != "female" {
		t.Fatalf("%+v %+v", o, o.Patient)
	}
}

func TestMaskAndDomains(t *testing.T) {
	if got := MaskEmail("dr.alice@clinic.example"); got != "d***@clinic.example" {
		t.Fatal(got)
	}
	if !DomainAllowed("a@Clinic.Example", []string{"clinic.example"}) || DomainAllowed("a@evil.example", []string{"clinic.example"}) || !DomainAllowed("a@x.example", nil) {
		t.Fatal("domain policy")
	}
	if DomainAllowed("a@sub.clinic.example", []string{"clinic.example"}) {
		t.Fatal("a subdomain is another domain")
	}
}
