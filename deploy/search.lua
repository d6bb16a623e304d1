-- wrk script: POST /v1/search with questions in users' words, one after another.
-- ADVISOR_KEY=... wrk -s deploy/search.lua http://127.0.0.1:8080
local questions = {
  "how do we notice our forecast quietly getting worse",
  "who should own the churn model once it is live",
  "our data sits in three CRMs, where do we start",
  "what should a production readiness review cover",
  "how do we keep cloud costs down when traffic spikes",
  "the nurses ignore the alerts, what can we do",
  "how do we get the sales team to trust the model",
  "we have two data scientists and no MLOps",
  "how do we roll out a new model version safely",
  "what tests should run before a model ships",
  "how do we explain credit decisions to a regulator",
  "budget for a first AI pilot",
}
local key = os.getenv("ADVISOR_KEY") or ""
local n = 0
request = function()
  n = n + 1
  local q = questions[(n % #questions) + 1] .. " (" .. n .. ")"
  local body = '{"query": "' .. q .. '", "k": 5}'
  return wrk.format("POST", "/v1/search", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end
