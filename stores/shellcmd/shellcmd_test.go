package shellcmd_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"statescope/stores/printable"
	"statescope/stores/shellcmd"
)

// TestLineSurvivesTheShell runs each printed line through sh -c, with a
// function standing in for statescope that prints its arguments, and
// checks the shell handed over exactly the arguments given.
func TestLineSurvivesTheShell(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"plain", []string{"unlock", "prod/db/orders", "--token", "9f2c1ab0"}},
		{"s3 etag", []string{"unlock", "team/db", "--token", `"5d41402abc4b2a76b9719d911017c592"`}},
		{"azure etag and lease", []string{"unlock", "team/db", "--token", `"0x8DC1A2B3C4D5E6F"|leased`}},
		{"gcs generation", []string{"unlock", "a", "--token", "1700000000000001"}},
		{"postgres", []string{"unlock", "a", "--token", "4242@2026-01-01T00:00:00.123456Z"}},
		{"spaces and quotes", []string{"restore", "it's a \"record\"", "--backup", "/tmp/my backups/x.json"}},
		{"expansions", []string{"unlock", "$HOME", "--token", "`id`$(id)${PATH}*?[a]~!#;&<>"}},
		{"newline and tab", []string{"unlock", "a\nb\tc", "--token", "\\"}},
		{"empty", []string{"unlock", "", "--token", ""}},
		{"unicode", []string{"unlock", "prod/dns/münchen", "--store", "s3://b/p?region=eu&endpoint=http://127.0.0.1:9000"}},
		{"leading dash and equals", []string{"unlock", "-x", "--token", "a=b"}},
		{"terminal escape", []string{"edit", "esc\x1b]0;owned\x07\x1b[2J'\\", "--context", "prod"}},
		{"bidi and zero width", []string{"edit", "bidi\u202eevil\u200b", "--token", "a\u0085b"}},
		{"carriage return", []string{"unlock", "crlf\r\n", "--token", "\x7f"}},
		{"invalid utf-8", []string{"unlock", "bad\xff\xfe'\\\"", "--token", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := shellcmd.Line(tt.args...)
			if !printable.Is(line) {
				t.Errorf("the line does not print as it is: %q", line)
			}
			// $'…' is read by bash, zsh and POSIX.1-2024 shells, not by
			// every sh yet: lines that need it are run by bash.
			shell := "sh"
			if strings.Contains(line, "$'") {
				shell = "bash"
			}
			script := `statescope() { for a in "$@"; do printf '%s\0' "$a"; done; }; ` + line
			out, err := exec.Command(shell, "-c", script).Output()
			if err != nil {
				t.Fatalf("sh -c %q: %v", line, err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if len(out) == 0 {
				got = nil
			}
			if !slices.Equal(got, tt.args) {
				t.Errorf("line %s\ngave %q\nwant %q", line, got, tt.args)
			}
		})
	}
}
