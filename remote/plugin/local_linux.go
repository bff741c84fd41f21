package plugin

import (
	"os/exec"
	"syscall"
)

// dieWithParent ends the plugin if statescope dies without closing it, so
// no orphaned plugin keeps serving.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
