package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"encoding/json"

	"github.com/connectme/connectme/testkit"
)

// The GraphQL pages and their REST twins do the same work (the same rows, one
// statement each way), so what GraphQL costs on top of REST is gqlgen's execution
// and ours around it. These benchmarks alternate the two request by request in one
// run and report, per request, the wall time and the CPU time of this process (the
// server and the client in it; PostgreSQL is another process), and the GraphQL/REST
// ratio of each. Issue "GraphQL at twice PostGraphile's speed" asks for a CPU ratio
// of at most 1.3 (make bench measures the server alone, under load). Run:
//
//	go test -run '^$' -bench Twins -benchtime=4000x ./server/

func BenchmarkTwins_MessagesPage(b *testing.B) {
	app, _, agent, conv := messagesPageFixture(b)
	token := app.Token(agent)
	gqlBody, _ := json.Marshal(map[string]any{"query": benchMessagesQuery, "variables": map[string]any{"id": fmt.Sprint(conv.ID)}})
	benchTwins(b, app, token, gqlBody, fmt.Sprintf("/message/message-page-list/%d?page=1&limit=20", conv.ID), 20)
}

func BenchmarkTwins_ConversationList(b *testing.B) {
	app, token := conversationListFixture(b)
	gqlBody, _ := json.Marshal(map[string]any{"query": benchInboxQuery})
	benchTwins(b, app, token, gqlBody, "/conversation/conversation-page-list?page=1&limit=20", 20)
}

// benchTwins posts the GraphQL body and gets the REST path in turn, checks that each
// answer is a 200 with rows (GraphQL: rows cursors and no errors), and reports the
// per-request wall and CPU time of each and their ratios.
func benchTwins(b *testing.B, app *testkit.App, token string, gqlBody []byte, restPath string, rows int) {
	client := app.Server.Client()
	var wall, cpu [2]time.Duration
	var count [2]int
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		k := i % 2
		i++
		var req *http.Request
		if k == 0 {
			req, _ = http.NewRequest(http.MethodPost, app.Server.URL+"/graphql", bytes.NewReader(gqlBody))
			req.Header.Set("Content-Type", "application/json")
		} else {
			req, _ = http.NewRequest(http.MethodGet, app.Server.URL+restPath, nil)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		c0, t0 := processCPU(), time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wall[k] += time.Since(t0)
		cpu[k] += processCPU() - c0
		count[k]++
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%d %s", resp.StatusCode, out)
		}
		if k == 0 && (bytes.Contains(out, []byte(`"errors"`)) || bytes.Count(out, []byte(`"cursor"`)) != rows) {
			b.Fatalf("GraphQL answered %s", out)
		}
	}
	if count[0] == 0 || count[1] == 0 {
		return
	}
	per := func(d time.Duration, n int) float64 { return float64(d) / float64(n) }
	b.ReportMetric(per(wall[0], count[0]), "ns/op-graphql")
	b.ReportMetric(per(wall[1], count[1]), "ns/op-rest")
	b.ReportMetric(per(cpu[0], count[0]), "cpu-ns/op-graphql")
	b.ReportMetric(per(cpu[1], count[1]), "cpu-ns/op-rest")
	b.ReportMetric(per(cpu[0], count[0])/per(cpu[1], count[1]), "cpu-graphql/rest")
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
