package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/spf13/cobra"
)

func newMFACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa",
		Short: "Virtual MFA devices of the server: their current codes, for scripts and tests",
	}
	cmd.AddCommand(newMFACodeCmd())
	return cmd
}

func newMFACodeCmd() *cobra.Command {
	var (
		opts   broker.Options
		serial string
		count  int
		noWait bool
	)
	cmd := &cobra.Command{
		Use:   "code --serial ARN",
		Short: "Print the code a virtual MFA device of the server shows now",
		Long: `code prints the six-digit code of a virtual MFA device (CreateVirtualMFADevice), as
the phone holding its seed would: the current one or, when that was used already (STS
takes each code once), the next one — waiting up to 30 seconds until STS accepts it,
unless --no-wait. --count 2 prints two consecutive codes, for EnableMFADevice. The
request is signed with your AWS credentials; the server allows iamlocal:GetMFACode on
the device to the root user and to principals whose policies allow it.`,
		Example: `  aws iam enable-mfa-device --user-name alice --serial-number $SERIAL \
      $(iamlocal mfa code --serial $SERIAL --count 2 | xargs printf -- '--authentication-code1 %s --authentication-code2 %s')
  aws sts get-session-token --serial-number $SERIAL --token-code $(iamlocal mfa code --serial $SERIAL)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if serial == "" {
				return &exitError{2, errors.New("give --serial: the device's serial number (its ARN)")}
			}
			if count < 1 || count > 3 {
				return &exitError{2, errors.New("--count is 1, 2 or 3")}
			}
			api, err := newLocalAPI(cmd.Context(), opts)
			if err != nil {
				return err
			}
			var res struct {
				Codes     []string
				NotBefore time.Time
			}
			in := map[string]any{"SerialNumber": serial, "Count": count}
			if err := api.call(cmd.Context(), "GetMFACode", in, &res); err != nil {
				return err
			}
			if wait := time.Until(res.NotBefore); wait > 0 && !noWait {
				select {
				case <-time.After(wait + 100*time.Millisecond):
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				}
			}
			for _, c := range res.Codes {
				fmt.Fprintln(cmd.OutOrStdout(), c)
			}
			return nil
		},
	}
	addClientFlags(cmd, &opts)
	fl := cmd.Flags()
	fl.StringVar(&serial, "serial", "", "the device's serial number (`ARN`)")
	fl.IntVar(&count, "count", 1, "how many consecutive codes to print")
	fl.BoolVar(&noWait, "no-wait", false, "print the next code at once even when STS accepts it only later")
	return cmd
}
