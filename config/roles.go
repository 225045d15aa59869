package config

import (
	"errors"
	"fmt"
)

// Some keys matter to one process only: the worker cannot run without runbooks and an
// inventory, and a receiver with no way to authenticate a webhook would report ready and then
// refuse every delivery (PagerDuty disables a subscription after three refused deliveries).
// Each process checks its own keys before connecting to anything, and each error names the key
// so the operator knows what to set, not which file open failed.

// CheckReceiver reports the keys a receiver needs and does not have.
func (c *Config) CheckReceiver() error {
	if len(c.Receiver.WebhookSecrets) == 0 && c.Receiver.AlertmanagerToken == "" && c.Receiver.SourcesDir == "" {
		return c.required("receiver.webhook_secrets",
			"set it (or receiver.webhook_secrets_file) to the PagerDuty webhook subscription's secret, "+
				"or receiver.alertmanager_token for Alertmanager, or receiver.sources_dir for declared sources only; "+
				"without one every webhook would be refused")
	}
	return nil
}

// CheckWorker reports the keys a worker needs and does not have.
func (c *Config) CheckWorker() error {
	var errs []error
	if c.Worker.Runbooks == "" {
		errs = append(errs, c.required("worker.runbooks", "the directory of runbook YAML files"))
	}
	if c.Worker.Inventory == "" {
		errs = append(errs, c.required("worker.inventory", "the inventory file naming the hosts Alaya may touch"))
	}
	return errors.Join(errs...)
}

func (c *Config) required(key, hint string) error {
	where := c.file
	if where == "" {
		where = "config"
	}
	return fmt.Errorf("%s: %s: required: %s (environment ALAYA_%s)", where, key, hint, envName(key))
}
