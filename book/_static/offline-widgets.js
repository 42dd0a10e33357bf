// Lets the ipywidgets HTML manager (which speaks MathJax 2) work with the MathJax 3 that the
// book serves from _static: it maps MathJax.Hub.Queue(["Typeset", hub, element]) onto
// MathJax.typesetPromise([element]). MathJax 3 replaces window.MathJax when it starts, so the
// Hub is re-attached whenever the global is assigned.
(function () {
  function addHub(mathjax) {
    if (!mathjax || typeof mathjax !== "object" || mathjax.Hub) return;
    mathjax.Hub = {
      Queue: function () {
        for (const job of arguments) {
          const element = Array.isArray(job) ? job[2] : undefined;
          const mj = window.MathJax;
          if (mj && typeof mj.typesetPromise === "function") {
            mj.typesetPromise(element ? [element] : undefined).catch(console.error);
          }
        }
      },
    };
  }
  let current = window.MathJax;
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = value; addHub(value); },
  });
  addHub(current);
})();

// RequireJS reads a global `require` object defined before it loads as its configuration.
// The widget manager asks require for its font files under "@jupyter-widgets/html-manager/dist";
// point that at the copies in _static/vendor, next to this script, instead of the page's folder.
var require = {
  paths: {
    "@jupyter-widgets/html-manager/dist": new URL("vendor", document.currentScript.src).href,
  },
};
