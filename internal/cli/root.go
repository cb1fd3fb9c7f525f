package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// Options configure the root command.
type Options struct {
	// Streams are stdin, stdout and stderr.
	Streams genericiooptions.IOStreams
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
}

// session is what every command works with: clients, the namespace the
// kubeconfig flags resolve to, the output and the clock.
type session struct {
	client    client.Client
	kube      kubernetes.Interface
	namespace string
	out       io.Writer
	errOut    io.Writer
	now       time.Time
}

// NewRootCommand is `kubectl cashier`: the standard kubeconfig flags
// (--kubeconfig, --context, -n, ...) and the subcommands.
func NewRootCommand(opts Options) *cobra.Command {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	flags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:   "kubectl-cashier",
		Short: "Inspect and operate cashier-operator payments",
		Long: `kubectl cashier reads and writes cashier-operator objects (Payment, Capture,
Refund, CustomsDeclaration, GatewayConfig) in the cluster your kubeconfig
points at.

Reading commands (status, summary, checkout, report, approvals) never change
anything. refund and capture print a manifest to commit to git, and only create
it with --apply. approve creates the Approval of an operation a MoneyPolicy
holds for a second person.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl cashier",
		},
	}
	root.SetIn(opts.Streams.In)
	root.SetOut(opts.Streams.Out)
	root.SetErr(opts.Streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())
	shortenGlobalFlags(root)
	connect := func() (*session, error) { return newSession(flags, opts) }
	root.AddCommand(
		newStatusCommand(connect),
		newSummaryCommand(connect),
		newRefundCommand(connect),
		newCaptureCommand(connect),
		newCheckoutCommand(connect),
		newReportCommand(connect),
		newApproveCommand(connect),
		newApprovalsCommand(connect),
	)
	return root
}

func newSession(flags *genericclioptions.ConfigFlags, opts Options) (*session, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("namespace: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &session{client: c, kube: kube, namespace: ns, out: opts.Streams.Out, errOut: opts.Streams.ErrOut, now: opts.Now()}, nil
}

// getPayment reads one Payment in the session's namespace.
func (s *session) getPayment(cmd *cobra.Command, name string) (*v1.Payment, error) {
	var p v1.Payment
	if err := s.client.Get(cmd.Context(), client.ObjectKey{Namespace: s.namespace, Name: name}, &p); err != nil {
		return nil, fmt.Errorf("payment %s/%s: %w", s.namespace, name, err)
	}
	return &p, nil
}

// scheme knows the core types and the project's kinds.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	return s
}

// shortenGlobalFlags keeps the two dozen kubeconfig flags out of every
// subcommand's help: they are listed once, by kubectl cashier --help.
func shortenGlobalFlags(root *cobra.Command) {
	usage := root.UsageFunc()
	root.SetUsageFunc(func(c *cobra.Command) error {
		if c == root {
			return usage(c)
		}
		out := c.OutOrStderr()
		var buf bytes.Buffer
		c.SetOut(&buf)
		err := usage(c)
		c.SetOut(out)
		text := buf.String()
		if i := strings.Index(text, "\nGlobal Flags:\n"); i >= 0 {
			rest := text[i+1:]
			end := len(rest)
			if j := strings.Index(rest, "\n\n"); j >= 0 {
				end = j
			}
			text = text[:i+1] + "Global Flags:\n  the kubectl connection flags (--kubeconfig, --context, -n, --as, ...): see kubectl cashier --help" + rest[end:]
			if !strings.HasSuffix(text, "\n") {
				text += "\n"
			}
		}
		_, werr := io.WriteString(out, text)
		return errors.Join(err, werr)
	})
}
