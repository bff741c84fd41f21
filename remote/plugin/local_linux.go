package plugin

import (
	"os/exec"
	"syscall"
)

// contain puts the plugin in a process group of its own, so killGroup ends
// every process it started (a wrapper's children holding its pipes too),
// and ends it if statescope dies without closing it, so no orphaned plugin
// keeps serving.
func contain(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}

// killGroup SIGKILLs the process group contain made, led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
