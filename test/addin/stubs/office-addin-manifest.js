/**
 * Stand-in for office-addin-manifest under Jest: office-addin-mock only reads the OfficeApp enum
 * from it, and the real package pulls an ESM dependency chain Jest's CommonJS runtime cannot load
 * (FACTS.md, Office add-in conventions).
 */
module.exports = {
  OfficeApp: { Excel: 'excel', OneNote: 'onenote', Outlook: 'outlook', PowerPoint: 'powerpoint', Project: 'project', Word: 'word' },
};
