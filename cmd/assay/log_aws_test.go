package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/tlog/tlogtest"
)

// TestLogServeAWS: `assay log serve --storage s3://... --db ...` keeps the
// log on tessera's AWS backend (gofakes3 + a MariaDB the test starts);
// anchors over HTTP verify, and the log's tiles are served from the bucket.
func TestLogServeAWS(t *testing.T) {
	ckProcessEnv(t)
	dsn := tlogtest.StartMariaDB(t)
	s3url := tlogtest.StartS3(t, "assay-log")
	ckSetenv(t, "ASSAY_LOG_TOKEN", "team-token-0123456789")
	ckSetenv(t, "ASSAY_LOG_DB", dsn)
	ckSetenv(t, "AWS_ACCESS_KEY_ID", "test")
	ckSetenv(t, "AWS_SECRET_ACCESS_KEY", "test")
	var out, errb syncBuf
	done := make(chan int)
	go func() {
		done <- run([]string{"log", "serve", "--log", t.TempDir(), "--addr", "127.0.0.1:0", "--origin", "aws.test/log",
			"--storage", "s3://assay-log/logs/one", "--s3-endpoint", s3url}, strings.NewReader(""), &out, &errb)
	}()
	s := waitFor(t, &out, ")\n")
	m := regexp.MustCompile(`^serving aws.test/log on (http://127\.0\.0\.1:\d+/) \(vkey (\S+)\)\n$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("stdout %q stderr %q", s, errb.String())
	}
	url, vkey := m[1], m[2]
	p1, p2 := copyTree(t, goldenPack), copyTree(t, goldenPack)
	for _, p := range []string{p1, p2} {
		if code, o, e := ckRun(t, "anchor", p, "--log", url, "--log-key", vkey); code != 0 {
			t.Fatalf("anchor: exit %d %q %q", code, o, e)
		}
		if code, o, _ := ckRun(t, "verify-pack", p, "--require-anchor", "--log-key", vkey); code != 0 {
			t.Fatalf("verify: exit %d\n%s", code, o)
		}
	}
	if code, o, e := ckRun(t, "log", "verify", "--log", url, "--log-key", vkey, p1, p2); code != 0 || strings.Count(o, "CONSISTENT") != 2 {
		t.Fatalf("log verify: exit %d %q %q", code, o, e)
	}
	stopOnSIGINT(t, "log serve", done, &errb)
	ckOneLine(t, []string{"log", "serve", "--storage", "gs://x", "--addr", "127.0.0.1:0"}, "not an s3:// location")
}
