// Package slack is Alaya's side of Slack: a small Web API client for the few methods Alaya
// calls (chat.postMessage, chat.update, users.lookupByEmail, users.info, and the ephemeral
// answer through an interaction's response_url), and the receiving side of interactivity
// (the request signature, the block_actions payload, the value our buttons carry).
//
// It is our own client over net/http rather than a general Slack library because what matters
// at this boundary is narrow and must be exact: every failure is classified where it happens
// (429 with Retry-After, Slack's transient and permanent error codes), every call is bounded,
// messages are clipped to Slack's limits instead of failing, one channel gets at most one
// message a second from this process, the bot token never reaches a log, and Alaya never
// calls a response URL outside an allow-list, whatever an interaction payload says.
package slack
