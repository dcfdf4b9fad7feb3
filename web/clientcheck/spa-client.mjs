// The Apollo Client set-up a single-page app would use against CONNECTME, as a
// module that apollo-client.mjs (the e2e check) drives: a session that refreshes
// its tokens (one refresh at a time: refresh tokens are single use), an Apollo
// Client whose HTTP requests carry the current token and are retried once after a
// refresh when the server says TOKEN_EXPIRED, a graphql-ws link whose
// connection_init carries the current token, relay-style type policies for the
// paginated lists, and a live event stream that survives the 4401 close of an
// expiring token by refreshing and resubscribing from its last cursor.
import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  gql,
} from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { relayStylePagination, isSubscriptionOperation } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import { from, switchMap } from "rxjs";
import WebSocket from "ws";

// rawGraphQL posts one operation without Apollo (sign-up, log-in, refresh).
export async function rawGraphQL(base, query, variables, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) {
    const err = new Error(`${body.errors[0].message} ${JSON.stringify(body.errors[0].extensions ?? {})}`);
    err.errors = body.errors;
    throw err;
  }
  return body.data;
}

const AUTH_FIELDS = "token refreshToken expiresAt user { id company { id whatsappNumber } }";

// createSession holds one agent's tokens. refresh() is single-flight: callers that
// arrive while a refresh runs share it (a second refreshSession with the same,
// already rotated, refresh token would end the session as a suspected theft).
export function createSession(base) {
  let inflight = null;
  const s = {
    base,
    accessToken: null,
    refreshToken: null,
    expiresAt: 0,
    refreshes: 0,
    set(payload) {
      s.accessToken = payload.token;
      s.refreshToken = payload.refreshToken;
      s.expiresAt = Date.parse(payload.expiresAt);
    },
    async login(email, password) {
      const { login } = await rawGraphQL(
        base,
        `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ${AUTH_FIELDS} } }`,
        { e: email, p: password },
      );
      s.set(login);
      return login;
    },
    refresh() {
      inflight ??= (async () => {
        try {
          const { refreshSession } = await rawGraphQL(
            base,
            `mutation($t: String!) { refreshSession(refreshToken: $t) { ${AUTH_FIELDS} } }`,
            { t: s.refreshToken },
          );
          s.set(refreshSession);
          s.refreshes++;
        } finally {
          inflight = null;
        }
      })();
      return inflight;
    },
    // validToken refreshes first when the access token is (nearly) expired: a
    // connection_init with an expired token is closed 4403 ("log in again").
    async validToken() {
      if (Date.now() > s.expiresAt - 1000) await s.refresh();
      return s.accessToken;
    },
  };
  return s;
}

export async function signup(base, { stamp, whatsappNumber, password }) {
  const email = `spa-${stamp}@example.com`;
  const { signup } = await rawGraphQL(
    base,
    `mutation($in: SignupInput!) { signup(input: $in) { ${AUTH_FIELDS} } }`,
    {
      in: {
        firstName: "Spa", lastName: "Check", phone: `+9477${stamp.slice(-7)}`, email, password,
        companyName: `SPA check ${stamp}`, whatsappNumber,
      },
    },
  );
  return { email, payload: signup };
}

const isTokenExpired = (e) => e.extensions?.code === "UNAUTHENTICATED" && e.extensions?.reason === "TOKEN_EXPIRED";

// createApollo builds the client. origin (optional) plays a browser's Origin header,
// on HTTP requests and on the websocket upgrade.
export function createApollo(session, { origin } = {}) {
  const wsState = { connects: 0, closes: [], expiredSeen: [] };

  // Read per request, so a refreshed token is used at once (also by a retry).
  const authLink = new SetContextLink((prev) => ({
    headers: {
      ...prev.headers,
      ...(session.accessToken ? { Authorization: `Bearer ${session.accessToken}` } : {}),
      ...(origin ? { Origin: origin } : {}),
    },
  }));

  // TOKEN_EXPIRED: refresh, then send the same operation again, once. A mutation
  // refused for an expired token did not run, so the retry is safe (sendMessage
  // with a clientMessageId is idempotent anyway).
  const errorLink = new ErrorLink(({ error, operation, forward }) => {
    if (!CombinedGraphQLErrors.is(error)) return;
    const expired = error.errors.find(isTokenExpired);
    if (!expired || operation.getContext().retriedAfterRefresh) return;
    wsState.expiredSeen.push(expired.extensions);
    operation.setContext({ retriedAfterRefresh: true });
    return from(session.refresh()).pipe(switchMap(() => forward(operation)));
  });

  const httpLink = new HttpLink({ uri: `${session.base}/graphql` });

  const OriginWebSocket = origin
    ? class extends WebSocket {
        constructor(url, protocols) {
          super(url, protocols, { origin });
        }
      }
    : WebSocket;
  const ws = createClient({
    url: session.base.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: OriginWebSocket,
    // Called for every (re)connect, so it always sends the current token.
    connectionParams: async () => ({ Authorization: `Bearer ${await session.validToken()}` }),
    retryAttempts: 5,
    on: {
      connected: () => wsState.connects++,
      closed: (e) => wsState.closes.push(e?.code),
    },
  });

  const link = ApolloLink.split(
    ({ query }) => isSubscriptionOperation(query),
    new GraphQLWsLink(ws),
    ApolloLink.from([errorLink, authLink, httpLink]),
  );

  const cache = new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          // One cached list per filter / per conversation; first/after are paging.
          conversations: relayStylePagination(["filter"]),
          messages: relayStylePagination(["conversationId"]),
        },
      },
      Conversation: { fields: { messages: relayStylePagination() } },
    },
  });

  const client = new ApolloClient({ link, cache });
  return { client, ws, wsState, session };
}

export const EVENTS = gql`
  subscription Events($after: String) {
    events(after: $after) {
      id
      cursor
      type
      message { id cursor content direction datetime conversation { id } }
    }
  }
`;

// followEvents streams the company's events from a cursor (eventsHead read before
// the lists were loaded, so nothing is missed). When the socket closes with 4401
// (the token expired; graphql-ws does not retry it), it refreshes the session and
// subscribes again from the last cursor it saw: the server replays what it missed,
// with no gap and no duplicate.
export function followEvents({ client, wsState, session }, after, onEvent, onError) {
  let cursor = after;
  let sub = null;
  let stopped = false;
  const state = { resubscribes: 0, get cursor() { return cursor; } };
  const start = () => {
    const closesBefore = wsState.closes.length;
    sub = client.subscribe({ query: EVENTS, variables: { after: cursor }, fetchPolicy: "no-cache" }).subscribe({
      next: async ({ data, error }) => {
        if (data?.events) {
          cursor = data.events.cursor;
          onEvent(data.events);
          return;
        }
        if (!error || stopped) return;
        const code = wsState.closes.slice(closesBefore).pop();
        if (code === 4401) {
          try {
            await session.refresh();
          } catch (err) {
            onError(err); // the session is over: log in again
            return;
          }
          state.resubscribes++;
          if (!stopped) start();
          return;
        }
        onError(error);
      },
    });
  };
  start();
  state.stop = () => {
    stopped = true;
    sub?.unsubscribe();
  };
  return state;
}
