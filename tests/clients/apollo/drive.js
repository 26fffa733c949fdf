// Apollo Client 3 as a department system builds it, unmodified: the persisted-query link
// (SHA-256 from Node's own crypto) over an HttpLink, the same query run twice.
//
//     node drive.js <graphql URL> <API key> <post|get> <query>
//
// `get` sets `useGETForHashedQueries`. Prints one JSON object: the data of each run, and
// every exchange as it went over the wire (method, URL, body, status, X-Request-Id), seen
// by the `fetch` the HttpLink is given, so the test can find each one's audit record.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";

const [uri, key, mode, query] = process.argv.slice(2);
if (!query || !["post", "get"].includes(mode)) {
  console.error("usage: node drive.js <graphql URL> <API key> <post|get> <query>");
  process.exit(2);
}

const exchanges = [];
async function recorded(input, init) {
  const response = await fetch(input, init);
  exchanges.push({
    method: init.method,
    url: String(input),
    body: init.body ?? null,
    status: response.status,
    requestId: response.headers.get("x-request-id"),
  });
  return response;
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: createPersistedQueryLink({ sha256, useGETForHashedQueries: mode === "get" }).concat(
    new HttpLink({
      uri,
      fetch: recorded,
      headers: { Authorization: `Bearer ${key}`, "X-Purpose": "administrative_basis" },
    }),
  ),
});

const runs = [];
for (let run = 0; run < 2; run += 1) {
  // "no-cache": each run goes to the server, as a system's repeated call does.
  const result = await client.query({ query: gql(query), fetchPolicy: "no-cache" });
  runs.push(result.data);
}
console.log(JSON.stringify({ runs, exchanges }));
