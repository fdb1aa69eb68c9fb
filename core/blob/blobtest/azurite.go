package blobtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/assay-dev/assay/internal/lazyre"
)

// Azurite's well-known development account (public, in Azure's docs).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azure is a running Azurite blob service (the npm package, installed by
// scripts/setup.d/47-azurite.sh; in memory, telemetry off) behind a
// loopback proxy that can hold uploads, reached by assay's REST driver
// (core/blob/azure) with the development account's Shared Key.
type Azure struct {
	Host      string // 127.0.0.1:PORT (the proxy)
	Container string
	Stalled   chan string
}

// AzureOptions shape the emulator's failures.
type AzureOptions struct {
	// Stall, when set, is called with each upload's blob name (a PUT of
	// a block or a blob); for one it returns true, the proxy takes the
	// body, signals Stalled and holds the request until the client goes
	// away (for SIGKILL tests).
	Stall func(name string) bool
}

var listensRe = lazyre.New(`successfully listens on (http://127\.0\.0\.1:\d+)`)

// azurite is one running azurite-blob process.
type azurite struct {
	url  string // http://127.0.0.1:PORT
	stop func()
}

// startAzurite runs azurite-blob in memory on a free loopback port.
func startAzurite(root string) (*azurite, error) {
	bin := filepath.Join(root, "testdata", "azurite", "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("Azurite is not installed (%v): run scripts/setup.d/47-azurite.sh", err)
	}
	home, err := os.MkdirTemp("", "assay-azurite-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence",
		"--disableTelemetry", "--skipApiVersionCheck", "--silent")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	cmd.Dir = home
	dieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		os.RemoveAll(home)
		return nil, fmt.Errorf("starting Azurite: %w", err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); os.RemoveAll(home) }
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listensRe().FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		return &azurite{url: u, stop: stop}, nil
	case <-time.After(2 * time.Minute):
		stop()
		return nil, errors.New("azurite did not start listening within 2 minutes")
	}
}

// One Azurite for the whole test binary once ShareAzurite is called.
var shared struct {
	sync.Mutex
	on  bool
	az  *azurite
	err error
	n   int
}

// ShareAzurite makes every StartAzurite of this test binary use one
// Azurite process, each with a container of its own (Azurite's start-up is
// the expensive part). Call it first in TestMain and the returned stop
// after m.Run.
func ShareAzurite() (stop func()) {
	shared.Lock()
	shared.on = true
	shared.Unlock()
	return func() {
		shared.Lock()
		defer shared.Unlock()
		if shared.az != nil {
			shared.az.stop()
			shared.az = nil
		}
	}
}

// StartAzurite runs Azurite (or, after ShareAzurite, reuses the shared
// one) with a new container, named containerName (plus a number when
// shared), until the test ends. A missing install fails the test, saying
// how to install it.
func StartAzurite(t testing.TB, containerName string, opt AzureOptions) *Azure {
	t.Helper()
	shared.Lock()
	if shared.on {
		if shared.az == nil && shared.err == nil {
			shared.az, shared.err = startAzurite(moduleRoot(t))
		}
		az, err := shared.az, shared.err
		shared.n++
		containerName = fmt.Sprintf("%s-%d", containerName, shared.n)
		shared.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		return serveAzurite(t, az, containerName, opt)
	}
	shared.Unlock()
	az, err := startAzurite(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(az.stop)
	return serveAzurite(t, az, containerName, opt)
}

// serveAzurite puts the stalling proxy in front of az and makes the container.
func serveAzurite(t testing.TB, az *azurite, containerName string, opt AzureOptions) *Azure {
	t.Helper()
	backend := az.url
	target, _ := url.Parse(backend)
	a := &Azure{Container: containerName, Stalled: make(chan string, 16)}
	proxy := httputil.NewSingleHostReverseProxy(target)
	prefix := "/" + AzuriteAccount + "/" + containerName + "/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opt.Stall != nil && r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, prefix) {
			if name := strings.TrimPrefix(r.URL.Path, prefix); opt.Stall(name) {
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					return
				}
				a.Stalled <- name
				<-r.Context().Done()
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.Host = strings.TrimPrefix(srv.URL, "http://")

	cred, err := azblob.NewSharedKeyCredential(AzuriteAccount, AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(srv.URL+"/"+AzuriteAccount+"/"+containerName, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Create(ctx, nil); err != nil {
		t.Fatalf("creating the Azurite container: %v", err)
	}
	return a
}

// moduleRoot is the directory holding go.mod, above the working directory.
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// URL is the azblob:// URL of prefix in the container.
func (a *Azure) URL(prefix string) string {
	return "azblob://" + a.Container + "/" + strings.TrimPrefix(prefix, "/")
}

// Env is the environment a client of this emulator needs.
func (a *Azure) Env() []string {
	return []string{"AZURE_STORAGE_ACCOUNT=" + AzuriteAccount, "AZURE_STORAGE_KEY=" + AzuriteKey,
		"AZURE_STORAGE_DOMAIN=" + a.Host, "AZURE_STORAGE_PROTOCOL=http", "AZURE_STORAGE_IS_LOCAL_EMULATOR=true"}
}

// Getenv reads Env (for blob.Options.Getenv).
func (a *Azure) Getenv(k string) string {
	for _, kv := range a.Env() {
		if strings.HasPrefix(kv, k+"=") {
			return kv[len(k)+1:]
		}
	}
	return ""
}
