// The most common mistake moving an app under corral: the app starts its own
// server (app.listen(3000)) and exports nothing. Said wherever an app turns up
// empty-handed.
export const LISTEN_HINT =
  "If the app calls listen() itself, export the app instead of calling listen() (export default app, or module.exports = app): corral listens for it on -b.";
