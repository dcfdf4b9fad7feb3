// The two additions PostGraphile needs to answer the benchmark's inbox query with
// the same rows and fields as CONNECTME (cmd/connectme-bench/peer_queries.go):
//
// 1. An order for the inbox that uses the same index as ours,
//    conversations (company_id, last_update_time DESC NULLS LAST, id DESC):
//    PostGraphile's stock LAST_UPDATE_TIME_DESC sorts NULLS FIRST (PostgreSQL's
//    default for DESC), which that index cannot serve, and a global
//    orderByNullsLast would do the opposite harm to the messages' index.
// 2. Conversation.unreadCount, the same count as ours: the conversation's
//    messages whose stored generated column `unread` is true, served by the
//    partial index messages_unread_idx. PostGraphile's own way to add a field is a
//    computed-column function in the table's schema; this plugin adds the same SQL
//    without writing to the benchmark's database.
const {
  makeAddPgTableOrderByPlugin,
  makeExtendSchemaPlugin,
  makePluginByCombiningPlugins,
  orderByAscDesc,
  gql,
  embed,
} = require("graphile-utils");

const InboxOrder = makeAddPgTableOrderByPlugin("public", "conversations", () =>
  orderByAscDesc("LAST_UPDATE_TIME_NULLS_LAST", "last_update_time", { nulls: "last" }),
);

const UnreadCount = makeExtendSchemaPlugin((build) => {
  const { pgSql: sql } = build;
  const unread = (queryBuilder) =>
    sql.fragment`(SELECT count(*)::int FROM public.messages m
      WHERE m.conversation_id = ${queryBuilder.getTableAlias()}.id AND m.unread)`;
  return {
    typeDefs: gql`
      extend type Conversation {
        "Received messages not yet read (as CONNECTME's unreadCount)."
        unreadCount: Int! @pgQuery(fragment: ${embed(unread)})
      }
    `,
  };
});

module.exports = makePluginByCombiningPlugins(InboxOrder, UnreadCount);
