-- POST /notes/ with a small JSON note and the bearer token from BENCH_TOKEN.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title": "Groceries", "description": "milk, eggs, sourdough bread", "tags": ["home", "food"]}'
