// An error the server names a field for (`{ field: "email", message: "… is already a user" }`),
// shown beside that field of the form, as the policy editor shows its own (policy-form.js's
// showErrors): the field is aria-invalid, described by the message, and gets focus. Loaded by
// every page of the console, the sign-in page included.
(() => {
  const MARK = 'data-server-error';
  /** Removes what `show` added under `root`. */
  const clear = (root) => {
    for (const n of root.querySelectorAll(`.field-error[${MARK}]`)) n.remove();
    for (const f of root.querySelectorAll(`[${MARK}]`)) {
      const id = f.getAttribute(MARK);
      const rest = (f.getAttribute('aria-describedby') ?? '')
        .split(/\s+/)
        .filter((x) => x && x !== id)
        .join(' ');
      if (rest) f.setAttribute('aria-describedby', rest);
      else f.removeAttribute('aria-describedby');
      f.removeAttribute('aria-invalid');
      f.removeAttribute(MARK);
    }
  };
  /**
   * Shows `error` beside the element `ids[error.field]` names (after clearing the previous
   * one), and focuses it when `focus`; false when no field of `ids` is named. `describedBy`:
   * the id of a message already on the page (the status line) to describe the field with,
   * instead of a copy of it beside the field.
   */
  const show = (root, ids, error, { focus = true, describedBy } = {}) => {
    clear(root);
    const id = error?.field ? ids[error.field] : undefined;
    const input = id ? document.getElementById(id) : null;
    if (!input) return false;
    const note = document.createElement('span');
    note.className = 'field-error';
    note.id = describedBy ?? `${input.id}-error`;
    note.setAttribute(MARK, '');
    note.textContent = error.message;
    input.setAttribute(MARK, note.id);
    // A group of checkboxes (a fieldset) is described; its boxes cannot each be invalid.
    if (input.localName !== 'fieldset') input.setAttribute('aria-invalid', 'true');
    input.setAttribute(
      'aria-describedby',
      [note.id, ...(input.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean)].join(' '),
    );
    if (!describedBy)
      (input.localName === 'fieldset' ? input : (input.closest('p') ?? input.parentElement)).append(note);
    if (focus) (input.localName === 'fieldset' ? (input.querySelector('input') ?? input) : input).focus();
    return true;
  };
  window.assentFields = { show, clear };
})();
