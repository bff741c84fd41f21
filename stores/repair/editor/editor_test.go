package editor_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"statescope/stores/repair/editor"
	"statescope/stores/repair/repairtest"
)

func mustNotBeValid(b []byte) error {
	if !bytes.Contains(b, []byte("valid")) {
		return errors.New("the word valid is missing")
	}
	return nil
}

func TestRun(t *testing.T) {
	const orig = "original text\n"
	tests := []struct {
		name    string
		saves   []string
		editor  string // a command line instead of the script saving saves
		want    string
		wantErr error
		shown   []string // substrings of what the editor showed, in order
		kept    bool
	}{
		{name: "valid first time", saves: []string{"# header\nvalid text\n"}, want: "valid text\n"},
		{name: "invalid then valid", saves: []string{"bad text\n", "# ERROR: stays a comment\nvalid now\n"}, want: "valid now\n",
			shown: []string{"original text", "# ERROR: the word valid is missing\n", "bad text"}},
		{name: "unchanged cancels", saves: []string{"# edited header only\n" + orig}, wantErr: editor.ErrCancelled},
		{name: "empty cancels", saves: []string{"# only comments\n\n  \n"}, wantErr: editor.ErrCancelled},
		{name: "saving the same invalid text again gives up", saves: []string{"bad text\n", "bad text\n"}, wantErr: editor.ErrAbandoned, kept: true},
		{name: "a failing editor that changed the text keeps it", editor: `sh -c 'echo "changed text" >> "$1"; exit 1' sh`, kept: true},
		{name: "a failing editor that changed nothing keeps nothing", editor: "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, shownPath := repairtest.EditorScript(t, tt.saves...)
			if tt.editor != "" {
				cmd = tt.editor
			}
			drafts := filepath.Join(t.TempDir(), "statescope", "drafts")
			var errOut bytes.Buffer
			s := editor.Session{Editor: cmd, Stdin: strings.NewReader(""), Stdout: &errOut, Stderr: &errOut, Header: []string{"Editing a test."},
				Drafts: editor.Drafts{Dir: drafts}}
			got, err := s.Run(context.Background(), []byte(orig), mustNotBeValid)
			switch {
			case tt.editor != "":
				if err == nil || strings.Contains(err.Error(), "kept in") != tt.kept {
					t.Fatalf("failing editor: %v, want an error that names a kept file: %v", err, tt.kept)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case string(got) != tt.want:
				t.Errorf("got %q, want %q", got, tt.want)
			}
			left, _ := os.ReadDir(drafts)
			if tt.kept {
				path := keptPath(t, err)
				data, rerr := os.ReadFile(path)
				if rerr != nil || !strings.Contains(string(data), "text") || filepath.Dir(path) != drafts {
					t.Errorf("kept file %s: %q, %v; want it in %s", path, data, rerr, drafts)
				}
				if fi, _ := os.Stat(path); fi == nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("kept file %s is not private", path)
				}
				if !strings.Contains(err.Error(), "discard it with: rm '"+path+"'") {
					t.Errorf("the error does not say how to discard the draft: %v", err)
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.kept]; len(left) != want {
				t.Errorf("%d files left in the drafts directory, want %d", len(left), want)
			}
			if fi, err := os.Stat(drafts); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("drafts directory: %v, %v; want 0700", fi, err)
			}
			shown, _ := os.ReadFile(shownPath)
			rest := string(shown)
			for _, want := range tt.shown {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("editor was not shown %q (in order); it saw:\n%s", want, shown)
				}
				rest = rest[i+len(want):]
			}
			if len(shown) > 0 && !strings.HasPrefix(string(shown), "# Editing a test.\n") {
				t.Errorf("first round does not start with the header:\n%s", shown)
			}
		})
	}
}

func keptPath(t *testing.T, err error) string {
	t.Helper()
	_, path, ok := strings.Cut(err.Error(), "kept in ")
	if !ok {
		t.Fatalf("error does not name the kept file: %v", err)
	}
	path, _, _ = strings.Cut(path, "; ")
	return strings.TrimSpace(path)
}

func TestStripComments(t *testing.T) {
	in := "# a\n  # b\n{\n  \"k\": \"# not a comment\"\n}\n#c"
	want := "{\n  \"k\": \"# not a comment\"\n}\n"
	if got := string(editor.StripComments([]byte(in))); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", "nano -w")
	if got := editor.FromEnv(); got != "nano -w" {
		t.Errorf("EDITOR: %q", got)
	}
	t.Setenv("VISUAL", "code --wait")
	if got := editor.FromEnv(); got != "code --wait" {
		t.Errorf("VISUAL wins: %q", got)
	}
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", "")
	if got := editor.FromEnv(); got != "vi" {
		t.Errorf("default: %q", got)
	}
}
