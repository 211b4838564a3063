/*
 * systemd notification (Type=notify): READY, RELOADING, STOPPING, STATUS
 * and the watchdog ping, sent from the event loop so that a stuck loop
 * stops the pings and systemd restarts the daemon.
 */
#ifndef STABILD_NOTIFY_H
#define STABILD_NOTIFY_H

struct event_base;

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start pinging at half WATCHDOG_USEC when systemd asks for it. */
void notify_watchdog_start(struct event_base *base);
void notify_watchdog_stop(void);

#endif
