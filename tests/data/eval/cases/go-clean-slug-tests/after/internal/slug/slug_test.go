package slug

import (
	"strings"
	"testing"
)

func TestMake(t *testing.T) {
	tests := []struct {
		name  string
		title string
		want  string
	}{
		{"simple", "Hello World", "hello-world"},
		{"punctuation runs", "Go 1.22: what's new?!", "go-1-22-what-s-new"},
		{"accents", "Crème brûlée à la française", "creme-brulee-a-la-francaise"},
		{"leading and trailing", "  --Release notes--  ", "release-notes"},
		{"digits only", "2024", "2024"},
		{"no letters", "!!! ???", ""},
		{"empty", "", ""},
		{"non-latin dropped", "日本語 guide", "guide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Make(tt.title); got != tt.want {
				t.Errorf("Make(%q) = %q, want %q", tt.title, got, tt.want)
			}
		})
	}
}

func TestMakeTruncates(t *testing.T) {
	title := strings.Repeat("word ", 40)
	got := Make(title)
	if len(got) > MaxLength {
		t.Fatalf("len(Make(...)) = %d, want <= %d", len(got), MaxLength)
	}
	if strings.HasSuffix(got, "-") {
		t.Errorf("Make(...) = %q, want no trailing '-'", got)
	}
}
