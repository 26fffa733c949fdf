// Starts GraphiQL on the page. A file of its own, not an inline script, so the page's
// Content-Security-Policy can refuse every inline script and every other host.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");
  var headers = root.getAttribute("data-headers");

  function fetcher(params, options) {
    var sent = {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json;q=0.9",
    };
    Object.assign(sent, (options && options.headers) || {});
    return fetch(endpoint, { method: "POST", headers: sent, body: JSON.stringify(params) })
      .then(function (response) { return response.json(); });
  }

  var props = { fetcher: fetcher };
  if (headers) {
    props.defaultHeaders = headers;
    props.defaultEditorToolsVisibility = "headers";
  }
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
