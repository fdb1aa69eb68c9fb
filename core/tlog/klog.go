package tlog

import (
	"flag"
	"io"

	"k8s.io/klog/v2"
)

// tessera logs through klog, at info level, straight to stderr ("Initializing
// directory for POSIX log ..."). Our stderr carries the CLI's own log lines
// only, so klog's output is discarded.
func init() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)
}
