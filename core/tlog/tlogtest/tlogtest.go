// Package tlogtest starts the real parts the transparency-log tests run
// against: a private MariaDB server (Debian's mariadb-server) and an
// in-process S3 server (gofakes3), for tessera's AWS backend.
package tlogtest

import (
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

	_ "github.com/go-sql-driver/mysql" // the DSN's driver
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// StartMariaDB runs a private MariaDB server (Debian's mariadb-server,
// scripts/setup.d/60-mariadb.sh) on loopback in a temp data directory and
// returns a DSN for a fresh database. The server stops when the test ends.
func StartMariaDB(t testing.TB) string {
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

// StartS3 runs gofakes3 (in-process, in-memory; it honours If-None-Match,
// which tessera's conditional tile writes need) and creates the bucket.
func StartS3(t testing.TB, bucket string) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
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
