package cli

// `sluice verify kfake` (hidden): franz-go's in-memory Kafka (kfake),
// the module's reference implementation, served until SIGINT or SIGTERM,
// so that `sluice verify --brokers` can be pointed at something other
// than Sluice. docs/verify.md records what such a run found. kfake is
// already linked in for `sluice bench`.

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func runVerifyKfake(args []string, stdout, stderr io.Writer) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	return serveKfake(args, stdout, stderr, sig)
}

// serveKfake serves until stop yields.
func serveKfake(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	fs := flag.NewFlagSet("verify kfake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.Int("brokers", 3, "brokers in the cluster")
	port := fs.Int("port", 0, "port of the first broker, the others following it (0: any free ports)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	opts := []kfake.Opt{kfake.NumBrokers(*brokers)}
	if *port != 0 {
		ports := make([]int, *brokers)
		for i := range ports {
			ports[i] = *port + i
		}
		opts = append(opts, kfake.Ports(ports...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(stderr, "sluice verify kfake:", err)
		return 1
	}
	defer c.Close()
	// The addresses on one line, for `--brokers $(...)` in a script.
	fmt.Fprintln(stdout, strings.Join(c.ListenAddrs(), ","))
	<-stop
	return 0
}
