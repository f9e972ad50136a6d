// For You feed: plays the video in view, reports interactions, adds to cart in place.
(function () {
  "use strict";
  var reel = document.getElementById("reel");
  if (!reel) return;
  var signedIn = reel.dataset.signedIn === "yes";
  var csrf = reel.dataset.csrf || "";
  var queue = [];
  var watching = new Map(); // slide -> {since, watchedMs}

  function track(event) {
    if (!signedIn) return;
    queue.push(event);
    if (queue.length >= 10) flush();
  }

  function flush() {
    if (!queue.length) return;
    var batch = queue.splice(0, queue.length);
    fetch(reel.dataset.eventsUrl, {
      method: "POST",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(batch)
    }).catch(function () { /* analytics must never break the feed */ });
  }

  function videoId(el) { return el.closest(".slide").dataset.videoId; }

  function stopWatching(slide) {
    var state = watching.get(slide);
    if (!state) return;
    watching.delete(slide);
    var video = slide.querySelector("video");
    if (video) video.pause();
    var ms = state.watchedMs + (performance.now() - state.since);
    var duration = Number(slide.dataset.durationMs) || 1;
    track({
      video_id: slide.dataset.videoId, kind: "watch", watch_ms: Math.round(ms),
      completion_pct: Math.min(100, Math.round((100 * ms) / duration))
    });
  }

  var seen = new WeakSet();
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var slide = entry.target;
      var video = slide.querySelector("video");
      if (entry.isIntersecting && entry.intersectionRatio >= 0.6) {
        if (!seen.has(slide)) {
          seen.add(slide);
          track({ video_id: slide.dataset.videoId, kind: "impression" });
        }
        if (video) video.preload = "auto";
        var next = slide.nextElementSibling;
        if (next && next.querySelector) {
          var nv = next.querySelector("video");
          if (nv) nv.preload = "metadata";
        }
        if (video) video.play().catch(function () {});
        watching.set(slide, { since: performance.now(), watchedMs: 0 });
      } else {
        stopWatching(slide);
      }
    });
    flush();
  }, { root: reel, threshold: [0, 0.6] });

  function observeAll() {
    reel.querySelectorAll(".slide:not([data-observed])").forEach(function (slide) {
      slide.dataset.observed = "1";
      observer.observe(slide);
    });
  }
  observeAll();
  document.body.addEventListener("htmx:afterSwap", observeAll);
  document.body.addEventListener("htmx:afterSettle", observeAll);

  reel.addEventListener("click", function (e) {
    var close = e.target.closest(".sheet-close");
    if (close) {
      close.closest("details").open = false;
      return;
    }
    var like = e.target.closest(".act.like");
    if (like) {
      if (like.getAttribute("aria-pressed") !== "true") {
        like.setAttribute("aria-pressed", "true");
        track({ video_id: videoId(like), kind: "like" });
        flush();
      }
      return;
    }
    var share = e.target.closest(".act.share");
    if (share) {
      var url = location.origin + "/feed#" + videoId(share);
      if (navigator.share) navigator.share({ url: url }).catch(function () {});
      else if (navigator.clipboard) navigator.clipboard.writeText(url).catch(function () {});
      track({ video_id: videoId(share), kind: "share" });
      flush();
    }
  });

  reel.addEventListener("toggle", function (e) {
    var details = e.target;
    if (details.classList && details.classList.contains("buy") && details.open) {
      track({ video_id: videoId(details), kind: "product_card_click", product_id: details.dataset.productId });
      flush();
    }
  }, true);

  reel.addEventListener("submit", function (e) {
    var form = e.target.closest("form.add-to-cart");
    if (!form) return;
    e.preventDefault();
    var data = new FormData(form);
    var sheet = form.closest(".sheet");
    fetch(reel.dataset.cartApi, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({
        sku_id: data.get("sku_id"), quantity: Number(data.get("quantity")),
        video_id: data.get("video_id"), creator_id: data.get("creator_id") || null
      })
    }).then(function (res) {
      if (res.status === 404 || res.status === 405) { form.submit(); return; }
      if (!res.ok) throw new Error("cart " + res.status);
      track({ video_id: videoId(form), kind: "add_to_cart", product_id: data.get("product_id") });
      flush();
      form.hidden = true;
      sheet.querySelector(".added").hidden = false;
    }).catch(function () { form.submit(); });
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      watching.forEach(function (_s, slide) { stopWatching(slide); });
      flush();
    }
  });
})();
