package cli

// How the client commands authenticate and encrypt: SASL (PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512) and TLS, with the names Kafka's clients
// give these settings (security.protocol, sasl.mechanism, and librdkafka's
// ssl.ca.location and friends, which kcat users type as -X). A password is
// never a flag, which any user could read in ps: it comes from a file or
// from $SLUICE_SASL_PASSWORD.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// security holds the flags of a client's SASL and TLS.
type security struct {
	protocol     string // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; "" infers it from the other flags
	mechanism    string // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	username     string
	passwordFile string
	caFile       string // PEM authorities to trust instead of the system's
	certFile     string // a client certificate (PEM), for ssl.client.auth
	keyFile      string // its key (PEM)
}

var (
	securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}
	saslMechanisms    = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
)

// addFlags registers the security flags; their defaults come from the
// SLUICE_ variables of the same names.
func (s *security) addFlags(fs *flag.FlagSet) {
	s.protocol = strings.ToUpper(os.Getenv("SLUICE_SECURITY_PROTOCOL"))
	s.mechanism = strings.ToUpper(os.Getenv("SLUICE_SASL_MECHANISM"))
	fs.Func("security-protocol", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (env SLUICE_SECURITY_PROTOCOL; default: SASL_ with --sasl-mechanism, SSL with an --ssl- flag, else PLAINTEXT)",
		oneOfFlag(&s.protocol, securityProtocols))
	fs.Func("sasl-mechanism", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (env SLUICE_SASL_MECHANISM)", oneOfFlag(&s.mechanism, saslMechanisms))
	fs.StringVar(&s.username, "sasl-username", os.Getenv("SLUICE_SASL_USERNAME"), "the SASL user (env SLUICE_SASL_USERNAME)")
	fs.StringVar(&s.passwordFile, "sasl-password-file", "", "a file whose first line is the SASL password (default: env SLUICE_SASL_PASSWORD)")
	fs.StringVar(&s.caFile, "ssl-ca-location", "", "PEM file of the authorities that sign the brokers' certificates (default: the system's)")
	fs.StringVar(&s.certFile, "ssl-certificate-location", "", "PEM file of this client's certificate, for brokers that ask for one")
	fs.StringVar(&s.keyFile, "ssl-key-location", "", "PEM file of the key of --ssl-certificate-location")
}

// oneOfFlag is a flag.Func that accepts one of names, in any case: a
// misspelt mechanism is a usage error (exit 2) like a misspelt flag.
func oneOfFlag(dst *string, names []string) func(string) error {
	return func(v string) error {
		for _, n := range names {
			if strings.EqualFold(v, n) {
				*dst = n
				return nil
			}
		}
		return fmt.Errorf("want one of %s", strings.Join(names, ", "))
	}
}

// effectiveProtocol is --security-protocol, or what the other flags imply.
func (s *security) effectiveProtocol() string {
	if s.protocol != "" {
		return s.protocol
	}
	tls := s.wantsTLS()
	switch {
	case s.mechanism != "" && tls:
		return "SASL_SSL"
	case s.mechanism != "":
		return "SASL_PLAINTEXT"
	case tls:
		return "SSL"
	}
	return "PLAINTEXT"
}

// flagError is a mistake in the security flags, or a file they name that
// cannot be used, found when the client is made: cmdFailure reports it as
// a usage error (exit 2).
type flagError struct{ err error }

func (f *flagError) Error() string { return f.err.Error() }
func (f *flagError) Unwrap() error { return f.err }

// opts are the franz-go options of the security flags; an error is a
// *flagError.
func (s *security) opts() ([]kgo.Opt, error) {
	opts, err := s.buildOpts()
	if err != nil {
		return nil, &flagError{err}
	}
	return opts, nil
}

func (s *security) buildOpts() ([]kgo.Opt, error) {
	proto := s.effectiveProtocol()
	var opts []kgo.Opt
	if strings.HasSuffix(proto, "SSL") {
		cfg, err := s.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	} else if s.wantsTLS() {
		return nil, fmt.Errorf("--ssl- flags need --security-protocol SSL or SASL_SSL, not %s", proto)
	}
	if strings.HasPrefix(proto, "SASL_") {
		m, err := s.saslMechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	} else if s.mechanism != "" {
		return nil, fmt.Errorf("--sasl-mechanism needs --security-protocol SASL_PLAINTEXT or SASL_SSL, not %s", proto)
	}
	return opts, nil
}

// wantsTLS is true when an --ssl- flag is given.
func (s *security) wantsTLS() bool { return s.caFile != "" || s.certFile != "" || s.keyFile != "" }

func (s *security) saslMechanism() (sasl.Mechanism, error) {
	if s.mechanism == "" {
		return nil, errors.New("--security-protocol " + s.effectiveProtocol() + " needs --sasl-mechanism")
	}
	if s.username == "" {
		return nil, errors.New("--sasl-mechanism needs --sasl-username (or $SLUICE_SASL_USERNAME)")
	}
	pass, err := s.password()
	if err != nil {
		return nil, err
	}
	switch s.mechanism {
	case "PLAIN":
		return plain.Auth{User: s.username, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: s.username, Pass: pass}.AsSha256Mechanism(), nil
	}
	return scram.Auth{User: s.username, Pass: pass}.AsSha512Mechanism(), nil
}

// password is the first line of --sasl-password-file, else
// $SLUICE_SASL_PASSWORD.
func (s *security) password() (string, error) {
	if s.passwordFile == "" {
		if p := os.Getenv("SLUICE_SASL_PASSWORD"); p != "" {
			return p, nil
		}
		return "", errors.New("no SASL password: give --sasl-password-file or set $SLUICE_SASL_PASSWORD")
	}
	return readPasswordFile(s.passwordFile)
}

// readPasswordFile returns the first line of a file, without its line end.
func readPasswordFile(name string) (string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s: the first line is empty; it should be the password", name)
	}
	return line, nil
}

func (s *security) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.caFile != "" {
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ssl-ca-location %s: no PEM certificate in it", s.caFile)
		}
	}
	if (s.certFile == "") != (s.keyFile == "") {
		return nil, errors.New("--ssl-certificate-location and --ssl-key-location go together")
	}
	if s.certFile != "" {
		cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loginErr explains a refused SASL login, or is nil for other errors. The
// broker's reason, when it gave one, comes last.
func (s *security) loginErr(err error) error {
	ke, ok := errors.AsType[*kerr.Error](err)
	if !ok {
		return nil
	}
	why := strings.TrimPrefix(err.Error(), ke.Error()+": ")
	if why == err.Error() {
		why = ""
	} else {
		why = "; the broker said: " + why
	}
	switch ke {
	case kerr.SaslAuthenticationFailed:
		return fmt.Errorf("the brokers refused the SASL login of %q with %s (%s): check the user name and the password%s", s.username, s.mechanism, ke.Message, why)
	case kerr.UnsupportedSaslMechanism:
		return fmt.Errorf("the brokers do not offer SASL mechanism %s (%s)%s", s.mechanism, ke.Message, why)
	}
	return nil
}
