package blobtest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill an emulator whose test binary died
// (a panic, a -timeout) instead of leaving it running.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
