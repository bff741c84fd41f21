// Package editor runs the user's editor on a text until a parser accepts
// it, kubectl-edit style: on a parse error the editor reopens on the user's
// own text with the error above it as comment lines.
package editor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"statescope/stores/repair/private"
)

// ErrCancelled: the user saved the file empty or unchanged.
var ErrCancelled = errors.New("edit cancelled: the file was saved empty or unchanged")

// ErrAbandoned: after an error the user saved the same invalid text again.
var ErrAbandoned = errors.New("edit abandoned: the text is still invalid")

// FromEnv is the editor command: $VISUAL, then $EDITOR, then vi.
func FromEnv() string {
	for _, k := range []string{"VISUAL", "EDITOR"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	return "vi"
}

// Drafts is the private directory edit buffers live in while an edit runs,
// and where a draft the user changed but did not apply is kept: Dir is a
// directory in statescope's state directory (its parent), both made 0700
// and never followed through a link.
type Drafts struct{ Dir string }

func (d Drafts) open() (*private.Dir, error) {
	if d.Dir == "" {
		return nil, errors.New("no directory for edit drafts is set")
	}
	state := filepath.Dir(filepath.Clean(d.Dir))
	return private.Open(filepath.Dir(state), true, filepath.Base(state), filepath.Base(d.Dir))
}

// Keep saves text as a new private draft (0600) and returns its path.
func (d Drafts) Keep(pattern string, text []byte) (string, error) {
	dir, err := d.open()
	if err != nil {
		return "", err
	}
	defer dir.Close()
	name, err := create(dir, pattern, text)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir.Path, name), nil
}

// create writes text to a new file named after pattern ("*.json":
// the '*' becomes a unique part) and returns its name.
func create(d *private.Dir, pattern string, text []byte) (string, error) {
	for {
		var b [4]byte
		rand.Read(b[:])
		name := strings.Replace(pattern, "*", hex.EncodeToString(b[:]), 1)
		if err := d.WriteNew(name, text); !errors.Is(err, fs.ErrExist) {
			return name, err
		}
	}
}

// Discard tells the user how to remove a kept draft.
func Discard(path string) string {
	return "discard it with: rm '" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// Session is one editing session.
type Session struct {
	// Editor is a shell command line ("vim", "code --wait"); the file's path
	// is appended as one argument.
	Editor string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Header lines are shown as comments above the text on every round.
	Header []string
	// Pattern names the buffer, e.g. "*.json".
	Pattern string
	// Drafts is where the buffer lives.
	Drafts Drafts
}

// Run edits text until parse accepts it and returns the accepted text with
// comment lines stripped. Lines starting with '#' are comments: JSON cannot
// contain one, since a newline inside a JSON string must be escaped.
// An empty or unchanged save returns ErrCancelled. The buffer is removed
// when Run returns, unless the editor failed or the user gave up on invalid
// text after changing it: then it is kept, and the error names it and how
// to discard it.
func (s Session) Run(ctx context.Context, text []byte, parse func([]byte) error) ([]byte, error) {
	dir, err := s.Drafts.open()
	if err != nil {
		return nil, fmt.Errorf("editor: %w", err)
	}
	defer dir.Close()
	pattern := s.Pattern
	if pattern == "" {
		pattern = "edit-*.txt"
	}
	name, err := create(dir, pattern, nil)
	if err != nil {
		return nil, fmt.Errorf("editor: %w", err)
	}
	path := filepath.Join(dir.Path, name)
	keep := false
	defer func() {
		if !keep {
			dir.Remove(name)
		}
	}()
	kept := func(err error) error {
		keep = true
		return fmt.Errorf("%w; your text is kept in %s; %s", err, path, Discard(path))
	}

	body, lastErr := text, error(nil)
	for {
		content := comments(s.Header)
		if lastErr != nil {
			content = comments(append([]string{"ERROR: " + lastErr.Error(), ""}, s.Header...))
		}
		content = append(content, body...)
		if err := rewrite(dir, name, content); err != nil {
			return nil, fmt.Errorf("editor: %w", err)
		}
		if err := s.launch(ctx, path); err != nil {
			if saved, rerr := dir.ReadFile(name); rerr == nil && bytes.Equal(saved, content) {
				return nil, fmt.Errorf("editor %q failed: %w; nothing was changed", s.Editor, err)
			}
			return nil, kept(fmt.Errorf("editor %q failed: %w", s.Editor, err))
		}
		saved, err := dir.ReadFile(name)
		if err != nil {
			return nil, kept(fmt.Errorf("editor: %w", err))
		}
		edited := StripComments(saved)
		switch {
		case len(bytes.TrimSpace(edited)) == 0:
			return nil, ErrCancelled
		case bytes.Equal(bytes.TrimSpace(edited), bytes.TrimSpace(text)):
			return nil, ErrCancelled
		case lastErr != nil && bytes.Equal(edited, body):
			return nil, kept(fmt.Errorf("%w (%v)", ErrAbandoned, lastErr))
		}
		if lastErr = parse(edited); lastErr == nil {
			return edited, nil
		}
		body = edited
	}
}

// rewrite replaces the buffer's content in place.
func rewrite(d *private.Dir, name string, content []byte) error {
	f, err := d.OpenFile(name, os.O_WRONLY|os.O_TRUNC)
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s Session) launch(ctx context.Context, path string) error {
	// sh -c lets Editor carry arguments; the path travels as $1, so odd
	// characters in it are never parsed by the shell.
	cmd := exec.CommandContext(ctx, "sh", "-c", s.Editor+` "$1"`, "statescope-editor", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.Stdin, s.Stdout, s.Stderr
	return cmd.Run()
}

// comments renders lines as '#' comments.
func comments(lines []string) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		for _, part := range strings.Split(l, "\n") {
			b.WriteString(strings.TrimRight("# "+part, " ") + "\n")
		}
	}
	return b.Bytes()
}

// StripComments drops every line whose first non-blank character is '#'.
func StripComments(b []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] == '#' {
			continue
		}
		out.Write(line)
	}
	return out.Bytes()
}
