package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/models"
)

func modelsCommand() *cli.Command {
	return &cli.Command{
		Name:  "models",
		Usage: "list the model zoo with parameter counts",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			type row struct {
				Name        string      `json:"name"`
				Params      int         `json:"params"`
				Prunable    int         `json:"prunable_params"`
				Description string      `json:"description"`
				Spec        models.Spec `json:"spec"`
			}
			var rows []row
			for _, e := range models.Zoo() {
				n, err := e.Spec.Counts()
				if err != nil {
					return err
				}
				r := row{Name: e.Name, Description: e.Description, Spec: e.Spec, Params: n.Params, Prunable: n.Prunable}
				rows = append(rows, r)
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPARAMS\tPRUNABLE\tDESCRIPTION")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", r.Name, r.Params, r.Prunable, r.Description)
			}
			return tw.Flush()
		},
	}
}
