// Package editor runs the user's editor on a text until a parser accepts
// it, kubectl-edit style: on a parse error the editor reopens on the user's
// own text with the error above it as comment lines.
package editor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
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
	// Pattern names the temporary file, e.g. "record-*.json".
	Pattern string
}

// Run edits text until parse accepts it and returns the accepted text with
// comment lines stripped. Lines starting with '#' are comments: JSON cannot
// contain one, since a newline inside a JSON string must be escaped.
// An empty or unchanged save returns ErrCancelled. If the editor fails, or
// the user gives up on invalid text, the text is kept in a private file
// whose path the error names.
func (s Session) Run(ctx context.Context, text []byte, parse func([]byte) error) ([]byte, error) {
	dir, err := os.MkdirTemp("", "statescope-edit-")
	if err != nil {
		return nil, fmt.Errorf("editor: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	pattern := s.Pattern
	if pattern == "" {
		pattern = "edit-*.txt"
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("editor: %w", err)
	}
	path := f.Name()
	f.Close()

	body, lastErr := text, error(nil)
	for {
		content := comments(s.Header)
		if lastErr != nil {
			content = comments(append([]string{"ERROR: " + lastErr.Error(), ""}, s.Header...))
		}
		content = append(content, body...)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			return nil, fmt.Errorf("editor: %w", err)
		}
		if err := s.launch(ctx, path); err != nil {
			keep = true
			return nil, fmt.Errorf("editor %q failed: %w; your text is kept in %s", s.Editor, err, path)
		}
		saved, err := os.ReadFile(path)
		if err != nil {
			keep = true
			return nil, fmt.Errorf("editor: %w; your text may be in %s", err, path)
		}
		edited := StripComments(saved)
		switch {
		case len(bytes.TrimSpace(edited)) == 0:
			return nil, ErrCancelled
		case bytes.Equal(bytes.TrimSpace(edited), bytes.TrimSpace(text)):
			return nil, ErrCancelled
		case lastErr != nil && bytes.Equal(edited, body):
			keep = true
			return nil, fmt.Errorf("%w (%v); your text is kept in %s", ErrAbandoned, lastErr, path)
		}
		if lastErr = parse(edited); lastErr == nil {
			return edited, nil
		}
		body = edited
	}
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

// Keep saves text the user wrote that is not being applied to a new
// private file (0600 in a 0700 directory) and returns its path.
func Keep(pattern string, text []byte) (string, error) {
	dir, err := os.MkdirTemp("", "statescope-edit-")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return f.Name(), err
}
