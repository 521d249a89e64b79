/** Deployment notifications: a Slack-compatible webhook, the one-line message, URL redaction. */
export { createNotifier } from './slack-webhook.js';
export type { Notifier, NotifyResult, NotifierOptions } from './slack-webhook.js';
export { formatNotification, formatDuration } from './format-notification.js';
export type { DeployEvent, Notification } from './format-notification.js';
export { redactUrl, maskUrlCredentials, parseHttpUrl, toRequestTarget } from './url-secrets.js';
