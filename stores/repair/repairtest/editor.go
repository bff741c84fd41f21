package repairtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EditorScript writes a stand-in for $EDITOR that, on its n-th run,
// replaces the file with saves[n-1] (and leaves it as shown after the
// last), appending everything it was shown to the file at shown.
func EditorScript(t *testing.T, saves ...string) (cmd, shown string) {
	t.Helper()
	dir := t.TempDir()
	shown = filepath.Join(dir, "shown")
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\nn=$(cat '%s/n' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s/n'\n", dir, dir)
	fmt.Fprintf(&b, "cat \"$1\" >> '%s'; echo '=====' >> '%s'\n", shown, shown)
	for i, s := range saves {
		p := filepath.Join(dir, fmt.Sprintf("save%d", i+1))
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "[ $n = %d ] && cp '%s' \"$1\"\n", i+1, p)
	}
	b.WriteString("exit 0\n")
	cmd = filepath.Join(dir, "editor.sh")
	if err := os.WriteFile(cmd, []byte(b.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	return cmd, shown
}
