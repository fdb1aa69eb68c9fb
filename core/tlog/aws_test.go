package tlog

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// startMariaDB runs a private MariaDB server (Debian's mariadb-server,
// scripts/setup.d/60-mariadb.sh) on loopback in a temp data directory and
// returns a DSN for a fresh database. The server stops when the test ends.
func startMariaDB(t testing.TB) string {
	t.Helper()
	for _, bin := range []string{"mariadb-install-db", "mariadbd"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat("/usr/sbin/" + bin); err != nil {
				t.Fatalf("%s is needed (apt-get install mariadb-server; scripts/setup.d/60-mariadb.sh)", bin)
			}
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	u, _ := user.Current()
	inst := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--user="+u.Username, "--skip-test-db", "--auth-root-authentication-method=normal")
	if out, err := inst.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := exec.Command("/usr/sbin/mariadbd", "--no-defaults", "--datadir="+data, "--user="+u.Username, "--socket="+filepath.Join(dir, "sock"),
		fmt.Sprintf("--port=%d", port), "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-log-bin", "--innodb-buffer-pool-size=32M", "--pid-file="+filepath.Join(dir, "pid"))
	var log syncLog
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { srv.Wait(); close(exited) }()
	t.Cleanup(func() {
		srv.Process.Kill() // the server this test started
		<-exited
	})
	root := fmt.Sprintf("root@tcp(127.0.0.1:%d)/", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := sql.Open("mysql", root)
		if err == nil {
			if err = db.Ping(); err == nil {
				_, err = db.Exec("CREATE DATABASE tessera")
				db.Close()
				if err != nil {
					t.Fatal(err)
				}
				break
			}
			db.Close()
		}
		select {
		case <-exited:
			t.Fatalf("mariadbd exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd not ready: %v\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return root + "tessera?parseTime=true"
}

// startS3 runs gofakes3 (in-process, in-memory; it honours If-None-Match,
// which tessera's conditional tile writes need) and creates the bucket.
func startS3(t testing.TB, bucket string) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAWSBackend appends packs to a log on tessera's AWS backend (S3 API
// on gofakes3, sequencing on MariaDB), verifies each anchor offline, and
// reads the log back over the S3 API as tiles for a consistency check.
func TestAWSBackend(t *testing.T) {
	dsn := startMariaDB(t)
	s3url := startS3(t, "assay-log")
	tmp := t.TempDir()
	keys := filepath.Join(tmp, "keys")
	cfg := AWSConfig{Bucket: "assay-log", DSN: dsn, Endpoint: s3url, AccessKey: "test", SecretKey: "test"}
	ctx := context.Background()
	packs := []string{buildPack(t, tmp, "a"), buildPack(t, tmp, "b"), buildPack(t, tmp, "c")}
	leaves := make([][]byte, len(packs))
	for i, p := range packs {
		l, _ := PackLeaf(p)
		leaves[i] = l.Bytes()
	}
	a, err := OpenAWSAppender(ctx, keys, cfg, AppendOptions{Origin: "aws.test/log", BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Append(ctx, leaves)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for i, p := range packs {
		if err := WriteAnchor(p, NewAnchor(ps[i], time.Now())); err != nil {
			t.Fatal(err)
		}
		if v := mustVerify(t, p, VerifyOptions{LogKey: a.Keys.VKey}); v.TreeSize != 3 {
			t.Fatalf("%+v", v)
		}
	}
	// The bucket is a tlog-tiles log: read it over HTTP (path style).
	src, err := OpenSource(s3url+"/assay-log/", nil)
	if err == nil {
		var rep *LogReport
		rep, err = VerifyLog(ctx, src, a.Keys.VKey, packs)
		if err == nil && (!rep.OK || rep.Latest.Size != 3) {
			err = fmt.Errorf("%+v", rep)
		}
	}
	if err != nil {
		t.Fatalf("reading the log from S3: %v", err)
	}
}

// syncLog collects a child's output.
type syncLog struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}
