package headless

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// message is one DevTools protocol message: a command's reply (ID set)
// or an event (Method set), from the browser or one of its tabs
// (SessionID set).
type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// conn is the pipe to one browser. Messages are read by one goroutine
// into a channel, so that a wait can also end on ctx.
type conn struct {
	w       io.Writer
	in      chan message
	readErr error // set before in is closed
	next    int
	session string   // the tab whose errors count
	errors  []string // what the tab reported, as events came
}

func newConn(w io.Writer, r io.Reader) *conn {
	c := &conn{w: w, in: make(chan message, 64)}
	go c.read(bufio.NewReader(r))
	return c
}

func (c *conn) read(r *bufio.Reader) {
	defer close(c.in)
	for {
		b, err := r.ReadBytes(0)
		if err != nil {
			c.readErr = err
			return
		}
		var m message
		if err := json.Unmarshal(b[:len(b)-1], &m); err != nil {
			c.readErr = fmt.Errorf("a message that is not JSON: %w", err)
			return
		}
		c.in <- m
	}
}

func (c *conn) callNoWait(session, method string, params any) (int, error) {
	c.next++
	m := map[string]any{"id": c.next, "method": method}
	if params != nil {
		m["params"] = params
	}
	if session != "" {
		m["sessionId"] = session
	}
	b, err := json.Marshal(m)
	if err != nil {
		return 0, err
	}
	_, err = c.w.Write(append(b, 0))
	return c.next, err
}

// call sends a command and waits for its reply, noting the events that
// come before it; out, when not nil, receives the reply's result.
func (c *conn) call(ctx context.Context, session, method string, params, out any) error {
	id, err := c.callNoWait(session, method, params)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	m, err := c.until(ctx, func(m message) bool { return m.ID == id })
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if m.Error != nil {
		return fmt.Errorf("%s: %s", method, m.Error.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(m.Result, out)
}

// waitEvent waits for an event of the tab.
func (c *conn) waitEvent(ctx context.Context, session, method string) error {
	_, err := c.until(ctx, func(m message) bool { return m.SessionID == session && m.Method == method })
	return err
}

// until reads messages, noting every event, until one matches.
func (c *conn) until(ctx context.Context, match func(message) bool) (message, error) {
	for {
		select {
		case <-ctx.Done():
			return message{}, ctx.Err()
		case m, ok := <-c.in:
			if !ok {
				return message{}, errors.Join(errors.New("the browser closed the pipe"), c.readErr)
			}
			if m.Method != "" && m.SessionID == c.session && c.session != "" {
				c.note(m)
			}
			if match(m) {
				return m, nil
			}
		}
	}
}

// note keeps what an event says went wrong in the page.
func (c *conn) note(m message) {
	switch m.Method {
	case "Runtime.exceptionThrown":
		var p struct{ ExceptionDetails exceptionDetails }
		if json.Unmarshal(m.Params, &p) == nil {
			c.errors = append(c.errors, "uncaught: "+p.ExceptionDetails.text())
		}
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string
			Args []remoteObject
		}
		if json.Unmarshal(m.Params, &p) == nil && (p.Type == "error" || p.Type == "assert") {
			parts := make([]string, len(p.Args))
			for i, a := range p.Args {
				parts[i] = a.text()
			}
			c.errors = append(c.errors, "console."+p.Type+": "+strings.Join(parts, " "))
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Source, Text, URL string }
		}
		if json.Unmarshal(m.Params, &p) == nil && p.Entry.Level == "error" {
			c.errors = append(c.errors, fmt.Sprintf("%s: %s %s", p.Entry.Source, p.Entry.Text, p.Entry.URL))
		}
	}
}

type exceptionDetails struct {
	Text      string
	Exception *remoteObject
}

func (e exceptionDetails) text() string {
	if e.Exception != nil {
		return e.Exception.text()
	}
	return e.Text
}

type remoteObject struct {
	Value       json.RawMessage
	Description string
}

func (o remoteObject) text() string {
	var s string
	switch {
	case o.Description != "":
		return o.Description
	case json.Unmarshal(o.Value, &s) == nil:
		return s
	}
	return string(o.Value)
}
