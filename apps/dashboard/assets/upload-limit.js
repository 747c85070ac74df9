// dcc.Upload silently drops a file over its max_size; say so next to the drop zone instead.
(function () {
  function warn(files) {
    var box = document.getElementById("upload-size-warning");
    if (!box || !files) return;
    var limit = Number(box.getAttribute("data-max-bytes"));
    var big = Array.prototype.filter.call(files, function (f) { return limit && f.size > limit; });
    box.textContent = big.length
      ? big[0].name + " is " + (big[0].size / 1048576).toFixed(1) + " MB, over the " +
        (limit / 1048576).toFixed(1) + " MB limit. Please upload a smaller CSV (or split it into parts)."
      : "";
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.type === "file" && e.target.closest("#job-upload")) warn(e.target.files);
  }, true);
  document.addEventListener("drop", function (e) {
    if (e.target && e.target.closest && e.target.closest("#job-upload") && e.dataTransfer) warn(e.dataTransfer.files);
  }, true);
})();
