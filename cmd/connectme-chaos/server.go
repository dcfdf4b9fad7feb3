package main

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/connectme/connectme/internal/childproc"
)

// serverConfig is what one server process is started with.
type serverConfig struct {
	Binary      string
	DatabaseURL string
	Port        int
	Provider    *provider
	MediaDir    string
	Extra       []string // more KEY=value settings
}

// server is one running `connectme serve` child process.
type server struct {
	*childproc.Process
	cfg  serverConfig
	base string
}

// jwtSecret is shared by every start, so tokens survive a restart.
const jwtSecret = "connectme-chaos-jwt-secret-0123456789abcdef"

// stopGrace is how long a stopped server may take to finish the sends it holds.
const stopGrace = 30 * time.Second

// startServer starts the binary and waits until /readyz answers 200.
func startServer(ctx context.Context, cfg serverConfig) (*server, error) {
	base := "http://127.0.0.1:" + strconv.Itoa(cfg.Port)
	env := append(os.Environ(),
		"DATABASE_URL="+cfg.DatabaseURL,
		"PORT="+strconv.Itoa(cfg.Port),
		"LISTEN_ADDR=127.0.0.1:"+strconv.Itoa(cfg.Port),
		"PUBLIC_BASE_URL="+base,
		"JWT_SECRET="+jwtSecret,
		"AUTH_RATE_LIMIT=0",
		"APP_ENV=development",
		"LOG_LEVEL=warn",
		"DELIVERY_WORKERS=8",
		"DB_MAX_CONNS=20",
		"MEDIA_DIR="+cfg.MediaDir,
		"TWILIO_API_BASE="+cfg.Provider.url(),
		"TWILIO_ACCOUNT_SID="+cfg.Provider.accountSID,
		"TWILIO_AUTH_TOKEN="+cfg.Provider.authToken,
	)
	env = append(env, cfg.Extra...)
	p, err := childproc.Start("connectme", cfg.Binary, env, 60)
	if err != nil {
		return nil, err
	}
	s := &server{Process: p, cfg: cfg, base: base}
	if err := s.WaitReady(ctx, base, 2*time.Minute); err != nil {
		s.Kill()
		return nil, err
	}
	return s, nil
}

// restart starts the same binary again on the same port and database.
func (s *server) restart(ctx context.Context) (*server, error) {
	return startServer(ctx, s.cfg)
}
