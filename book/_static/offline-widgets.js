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
// embed-amd.js defines several AMD modules (@jupyter-widgets/html-manager, /base, /controls, ...),
// and each webpack bundle in it loads its font files from the folder of its module's URL. Left
// alone, "@jupyter-widgets/controls" resolves to <page folder>/@jupyter-widgets/controls.js, so
// whichever bundle styles a widget first would ask the page's folder for fonts (a 404). Map every
// module name into _static/vendor, next to this script, where setup.sh copies the fonts.
var require = (function () {
  const vendor = new URL("vendor", document.currentScript.src).href;
  const paths = { "@jupyter-widgets/html-manager/dist": vendor };
  for (const name of ["html-manager", "base", "base7", "controls", "controls7"]) {
    paths["@jupyter-widgets/" + name] = vendor + "/" + name;
  }
  return { paths: paths };
})();
