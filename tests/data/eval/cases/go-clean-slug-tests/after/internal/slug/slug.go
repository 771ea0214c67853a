// Package slug turns titles into URL path segments.
package slug

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxLength is the longest slug Make returns, in bytes (slugs are ASCII, so also runes).
const MaxLength = 80

// Make returns a lowercase ASCII slug for title: accents are removed, runs of anything
// that is not a letter or digit become a single '-', and there is no leading or trailing
// '-'. It returns "" if title has no letters or digits.
func Make(title string) string {
	var b strings.Builder
	pendingDash := false
	for _, r := range norm.NFKD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// combining mark left over from decomposition: drop it
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if pendingDash && b.Len() > 0 {
				b.WriteByte('-')
			}
			pendingDash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			pendingDash = true
		}
	}
	s := b.String()
	if len(s) > MaxLength {
		s = strings.TrimRight(s[:MaxLength], "-")
	}
	return s
}
