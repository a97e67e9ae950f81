// cargo-leptos starts the server and the tests together: wait until it answers.
export default async function globalSetup() {
  const base = process.env.REPOPASS_E2E_URL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/readyz`);
      if (response.ok) return;
      last = `status ${response.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`RepoPass did not become ready at ${base}: ${last}`);
}
