package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/spf13/cobra"
)

// encodedPattern finds the message inside a whole EC2 error text.
var encodedPattern = regexp.MustCompile(`Encoded authorization failure message: ([A-Za-z0-9_\-+/=]+)`)

func newDecodeCmd() *cobra.Command {
	var opts broker.Options
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "decode [MESSAGE|-]",
		Short: "Decode an encoded authorization failure message and say why the call was denied",
		Long: `decode calls sts:DecodeAuthorizationMessage (on iamlocal or AWS) and renders the
answer for a person: the decision, the statements that decided (their policy type, Sid,
actions, resources and conditions) and the request context. It accepts the bare message
or a whole EC2 error text, as an argument or on standard input (-).`,
		Example: `  aws ec2 run-instances … 2>&1 | iamlocal decode --endpoint-url http://127.0.0.1:4577 -
  iamlocal decode --json "$MESSAGE"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			text := "-"
			if len(args) == 1 {
				text = args[0]
			}
			if text == "-" {
				data, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return err
				}
				text = string(data)
			}
			msg := strings.TrimSpace(text)
			if m := encodedPattern.FindStringSubmatch(text); m != nil {
				msg = m[1]
			} else if strings.Contains(text, "UnauthorizedOperation") || strings.Contains(text, "not authorized to perform this operation") {
				return &exitError{1, noEncodedMessage()}
			}
			if msg == "" {
				return &exitError{2, fmt.Errorf("no encoded message given")}
			}
			cfg, err := broker.Load(cmd.Context(), opts)
			if err != nil {
				return err
			}
			out, err := sts.NewFromConfig(cfg).DecodeAuthorizationMessage(cmd.Context(), &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(msg)})
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "InvalidAuthorizationMessageException" {
				return &exitError{1, fmt.Errorf("%s: %s\n%w", ae.ErrorCode(), ae.ErrorMessage(), noEncodedMessage())}
			}
			if err != nil {
				return fmt.Errorf("%w (decoding needs sts:DecodeAuthorizationMessage in the account that received the message)", err)
			}
			decoded := aws.ToString(out.DecodedMessage)
			if asJSON {
				var buf bytes.Buffer
				if json.Indent(&buf, []byte(decoded), "", "  ") != nil {
					buf.WriteString(decoded)
				}
				fmt.Fprintln(cmd.OutOrStdout(), buf.String())
				return nil
			}
			return renderDecoded(cmd.OutOrStdout(), decoded)
		},
	}
	addClientFlags(cmd, &opts)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the decoded JSON")
	return cmd
}

// noEncodedMessage explains an EC2 denial that carries no encoded message: EC2 leaves
// it out when a VPC endpoint policy denied the request, as AWS does.
func noEncodedMessage() error {
	return errors.New(`the text holds no encoded authorization message. EC2 denials without one come from a VPC endpoint policy: the request went through an endpoint whose policy does not allow it. Confirm with:
  iamlocal explain --principal ARN --action ec2:ACTION --resource ARN --source-vpce vpce-ID`)
}

// addClientFlags adds the flags every client command shares.
func addClientFlags(cmd *cobra.Command, opts *broker.Options) {
	cmd.Flags().StringVar(&opts.Profile, "profile", "", "use `PROFILE` from ~/.aws/config")
	cmd.Flags().StringVar(&opts.Endpoint, "endpoint-url", "", "send requests to `URL` (else AWS_ENDPOINT_URL, the profile's endpoint_url, or AWS)")
	cmd.Flags().StringVar(&opts.Region, "region", "", "the `REGION` to sign for")
}

type decodedMsg struct {
	Allowed           bool `json:"allowed"`
	ExplicitDeny      bool `json:"explicitDeny"`
	MatchedStatements struct {
		Items []struct {
			StatementID string `json:"statementId"`
			Effect      string `json:"effect"`
			PolicyType  string `json:"policyType"`
			Principals  items  `json:"principals"`
			Actions     items  `json:"actions"`
			Resources   items  `json:"resources"`
			Conditions  conds  `json:"conditions"`
		} `json:"items"`
	} `json:"matchedStatements"`
	Context struct {
		Principal struct {
			ID  string `json:"id"`
			Arn string `json:"arn"`
		} `json:"principal"`
		Action     string `json:"action"`
		Resource   string `json:"resource"`
		Conditions conds  `json:"conditions"`
	} `json:"context"`
}

type items struct {
	Items []struct {
		Value string `json:"value"`
	} `json:"items"`
}

func (it items) list() string {
	var vs []string
	for _, v := range it.Items {
		vs = append(vs, v.Value)
	}
	return strings.Join(vs, ", ")
}

type conds struct {
	Items []struct {
		Key      string `json:"key"`
		Operator string `json:"operator"`
		Values   items  `json:"values"`
	} `json:"items"`
}

func renderDecoded(w io.Writer, decoded string) error {
	var m decodedMsg
	if err := json.Unmarshal([]byte(decoded), &m); err != nil {
		fmt.Fprintln(w, decoded)
		return nil
	}
	c := m.Context
	fmt.Fprintf(w, "%s  %s  on %s\n", c.Principal.Arn, c.Action, c.Resource)
	switch {
	case m.Allowed:
		fmt.Fprintln(w, "  decision: allowed")
	case m.ExplicitDeny:
		fmt.Fprintln(w, "  decision: explicitDeny — a statement denies it:")
	default:
		fmt.Fprintln(w, "  decision: implicitDeny — no policy allows it (or a required layer, such as an SCP or a boundary, does not)")
		defer fmt.Fprintf(w, "  which layer: iamlocal explain --principal %s --action %s --resource %s\n", c.Principal.Arn, c.Action, c.Resource)
	}
	for _, st := range m.MatchedStatements.Items {
		kind := st.PolicyType
		if kind == "" {
			kind = "policy"
		}
		fmt.Fprintf(w, "  %-5s %s statement %q\n", st.Effect, kind, st.StatementID)
		if p := st.Principals.list(); p != "" {
			fmt.Fprintf(w, "        principals: %s\n", p)
		}
		fmt.Fprintf(w, "        actions:    %s\n", st.Actions.list())
		if r := st.Resources.list(); r != "" {
			fmt.Fprintf(w, "        resources:  %s\n", r)
		}
		for _, cd := range st.Conditions.Items {
			fmt.Fprintf(w, "        condition:  %s %s %s\n", cd.Operator, cd.Key, cd.Values.list())
		}
	}
	if len(c.Conditions.Items) > 0 {
		fmt.Fprintln(w, "  request context:")
		for _, cd := range c.Conditions.Items {
			fmt.Fprintf(w, "    %s = %s\n", cd.Key, cd.Values.list())
		}
	}
	return nil
}
