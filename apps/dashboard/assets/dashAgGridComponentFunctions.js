// Cell renderers for the jobs table (dash-ag-grid looks them up by name on this object).
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.JobLink = function (props) {
  return React.createElement("a", { href: "/jobs/" + props.data.job_id, className: "job-link" }, props.value);
};

dagcomponentfuncs.StatusBadge = function (props) {
  var status = String(props.value || "");
  var text = status.charAt(0) + status.slice(1).toLowerCase();
  return React.createElement("span", { className: "badge status-" + status.toLowerCase() }, text);
};

dagcomponentfuncs.Progress = function (props) {
  var status = props.data.status;
  if (status !== "RUNNING" && status !== "PENDING") {
    return status === "SUCCEEDED" ? "100%" : "";
  }
  var percent = Math.round(Math.max(0, Math.min(1, props.data.progress || 0)) * 100);
  return React.createElement(
    "div",
    { className: "progress", title: props.data.message || "", role: "progressbar", "aria-valuenow": percent },
    React.createElement("div", { className: "progress-fill", style: { width: percent + "%" } }),
    React.createElement("span", { className: "progress-label" }, status === "PENDING" ? "waiting" : percent + "%")
  );
};
