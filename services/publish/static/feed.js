// "Show More": the link leads to the next page and works without script; with it, the
// next page's stories are fetched as a fragment and appended to the list in place, and
// the link moves on to the page after (or goes away on the last page).
document.addEventListener("click", async (event) => {
  const link = event.target.closest("a[data-more]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const list = document.getElementById(link.dataset.list || "feed-list");
  if (!list) return;
  event.preventDefault();
  if (link.getAttribute("aria-busy") === "true") return;
  link.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(link.dataset.fragment, {headers: {Accept: "text/html"}});
    if (!response.ok) throw new Error(String(response.status));
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    const added = [...template.content.querySelectorAll("[data-fragment-items] > li")];
    added.forEach((item) => list.append(item));
    const next = template.content.querySelector("a[data-more]");
    if (next) {
      link.href = next.getAttribute("href");
      link.dataset.fragment = next.dataset.fragment;
      link.removeAttribute("aria-busy");
    } else {
      link.remove();
    }
    // keyboard and screen reader users go on from the first new story
    const first = added.length ? added[0].querySelector(".story-title a") : null;
    if (first && !document.body.contains(link)) first.focus();
  } catch (error) {
    window.location.assign(link.href);
  }
});
