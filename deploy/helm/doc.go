// Package helm holds the tests of Alaya's Helm chart (deploy/helm/alaya): CI lints it, renders
// it for several value sets and decodes every manifest strictly into the Kubernetes API types,
// so a misspelt field fails the build instead of an install at a customer.
package helm
