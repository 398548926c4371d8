package cli

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// `sluice verify kfake` prints the addresses of a cluster that answers
// on them, with as many brokers as asked, until it is stopped.
func TestVerifyKfakeServes(t *testing.T) {
	r, w := io.Pipe()
	stop := make(chan os.Signal)
	done := make(chan int)
	go func() { done <- serveKfake([]string{"--brokers", "2"}, w, io.Discard, stop) }()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addrs := strings.Split(strings.TrimSpace(line), ",")
	if len(addrs) != 2 {
		t.Fatalf("addresses %q", line)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	brokers, err := kadm.NewClient(cl).ListBrokers(ctx)
	if err != nil || len(brokers) != 2 {
		t.Fatalf("brokers %v, %v", brokers, err)
	}
	close(stop)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}
