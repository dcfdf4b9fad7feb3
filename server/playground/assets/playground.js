// Starts GraphiQL on the CONNECTME GraphQL API. A file of its own, not an inline
// script, so the page's Content-Security-Policy can say script-src 'self'.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint') || '/graphql';
  // GraphiQL's menus and dialogs insert one <style> element (to lock scrolling);
  // it takes its nonce from this global, and the page's CSP allows that nonce.
  window.__webpack_nonce__ = root.getAttribute('data-style-nonce') || undefined;
  // Subscriptions go over a websocket to the same path on this host; the headers
  // from the Headers tab travel in the connection_init payload.
  var wsScheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';

  var fetcher = GraphiQL.createFetcher({
    url: new URL(endpoint, window.location.href).toString(),
    subscriptionUrl: wsScheme + '//' + window.location.host + endpoint,
  });

  // The snooze example wakes a day from now (a fixed date would fall out of the
  // allowed 90 days).
  var tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  tomorrow.setUTCMinutes(0, 0, 0);
  tomorrow = tomorrow.toISOString();

  var defaultQuery = [
    '# CONNECTME GraphQL playground',
    '#',
    '# apiInfo, login and signup need no token.',
    "# Everything else needs an agent's token:",
    '# 1. Run "Login" below (the run button asks',
    '#    which operation). `connectme seed` makes',
    '#    demo@connectme.local / connectme-demo.',
    '# 2. Paste data.login.token after "Bearer "',
    '#    in the Headers tab below.',
    '# 3. Run "Me", or browse the docs (top left).',
    '# Subscriptions send the same header in the',
    "# websocket's connection_init.",
    '',
    'query ApiInfo {',
    '  apiInfo {',
    '    name',
    '    version',
    '  }',
    '}',
    '',
    'mutation Login {',
    '  login(email: "demo@connectme.local", password: "connectme-demo") {',
    '    token',
    '    expiresAt',
    '  }',
    '}',
    '',
    'query Me {',
    '  me {',
    '    firstName',
    '    lastName',
    '    email',
    '    role',
    '    company {',
    '      name',
    '      whatsappNumber',
    '    }',
    '  }',
    '}',
    '',
    '# The team inbox. The conversation ids below',
    '# are examples: take them from MyOpenInbox',
    '# or UnassignedInbox (log in as',
    '# agent@connectme.local, same password).',
    '',
    'query MyOpenInbox {',
    '  inboxCounts { open pending snoozed resolved mine unassigned unread }',
    '  conversations(first: 20, filter: { status: [OPEN], assignee: ME }) {',
    '    edges {',
    '      node {',
    '        id',
    '        status',
    '        assignee { displayName }',
    '        contact { displayName }',
    '        lastMessage { content datetime }',
    '        unreadCount',
    '      }',
    '    }',
    '  }',
    '}',
    '',
    'query UnassignedInbox {',
    '  conversations(filter: { status: [OPEN], assignee: UNASSIGNED }) {',
    '    edges { node { id contact { displayName } } }',
    '  }',
    '}',
    '',
    '# CONFLICT when another agent has it.',
    'mutation Claim {',
    '  claimConversation(conversationId: "2") {',
    '    id',
    '    assignee { displayName }',
    '  }',
    '}',
    '',
    '# A private note: never sent to the contact.',
    'mutation AddNote {',
    '  addNote(conversationId: "2", text: "Called them; they will reply tomorrow.") {',
    '    id',
    '    type',
    '    sender { displayName }',
    '  }',
    '}',
    '',
    '# Back to OPEN by itself at snoozedUntil (at most 90 days ahead),',
    '# or when the contact writes.',
    'mutation Snooze {',
    '  setConversationStatus(conversationId: "2", status: SNOOZED,',
    '      snoozedUntil: "' + tomorrow + '") {',
    '    id',
    '    status',
    '    snoozedUntil',
    '  }',
    '}',
    '',
    '# Labels: the first use of a name creates it',
    '# (VIP and vip are one label). Put a',
    '# conversation id from "Inbox" in $id.',
    'query Inbox {',
    '  conversations(first: 5) {',
    '    edges { node { id contact { firstName } labels { name color } } }',
    '  }',
    '}',
    '',
    'mutation AddLabels($id: ID = "1") {',
    '  addLabels(conversationId: $id, names: ["VIP", "follow-up"]) {',
    '    id',
    '    labels { id name color }',
    '  }',
    '}',
    '',
    'query ByLabel {',
    '  conversations(first: 20, filter: { labels: ["vip"] }) {',
    '    totalCount',
    '    edges { node { id contact { firstName lastName } } }',
    '  }',
    '  labels { name color conversationCount }',
    '}',
    '',
    '# Canned responses: every agent lists and',
    '# renders them; OWNER and ADMIN manage them.',
    'query CannedResponses {',
    '  cannedResponses(search: "gre") { id shortCode content }',
    '}',
    '',
    'query RenderCanned($id: ID = "1", $conversationId: ID = "1") {',
    '  renderCannedResponse(id: $id, conversationId: $conversationId)',
    '}',
    '',
  ].join('\n');

  var defaultHeaders = JSON.stringify({ Authorization: 'Bearer ' }, null, 2);

  var h = React.createElement;
  ReactDOM.createRoot(root).render(
    h(
      GraphiQL,
      {
        fetcher: fetcher,
        defaultQuery: defaultQuery,
        defaultHeaders: defaultHeaders,
        defaultEditorToolsVisibility: 'headers',
        isHeadersEditorEnabled: true,
        // Tokens stay out of localStorage unless the user opts in (settings).
        shouldPersistHeaders: false,
      },
      h(GraphiQL.Logo, null, 'CONNECTME'),
    ),
  );
})();
