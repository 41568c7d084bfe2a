module pullguard.dev/webhook-client

go 1.19
