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
    '# OWNER/ADMIN: send the company\'s events to your',
    '# system. Keep the secret (shown only here) to',
    '# verify the webhook-signature header.',
    'mutation CreateWebhookEndpoint {',
    '  createWebhookEndpoint(input: {',
    '    url: "https://example.com/connectme-hooks"',
    '    eventTypes: [MESSAGE_ADDED, CONVERSATION_UPDATED]',
    '  }) {',
    '    id',
    '    url',
    '    eventTypes',
    '    enabled',
    '    secret',
    '  }',
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
