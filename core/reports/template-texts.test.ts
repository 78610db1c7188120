/** The built-in templates in Spanish and German: every word the library sets is translated, nothing else changes. */
import { describe, expect, it } from 'vitest';
import { reportLocales, type ReportTemplate } from './report-model.ts';
import { localizedTemplate } from './template-texts.ts';
import { builtInTemplates } from './templates.ts';

const withoutWords = (t: ReportTemplate) => ({ ...t, definition: { ...t.definition, title: '', description: '', sections: t.definition.sections.map((s) => ({ ...s, title: undefined })) } });

describe('built-in templates in the report languages', () => {
  it.each(reportLocales.filter((l) => l !== 'en'))('translates the title, description and every section title the library sets into %s, and nothing else', (locale) => {
    const titles = new Set<string>();
    for (const template of builtInTemplates) {
      const localized = localizedTemplate(template, locale);
      expect(localized.definition.title).not.toBe(template.definition.title);
      expect(localized.definition.description).not.toBe(template.definition.description);
      expect(localized.definition.description.length).toBeGreaterThan(20);
      titles.add(localized.definition.title);
      localized.definition.sections.forEach((section, i) => {
        const english = template.definition.sections[i]!.title;
        if (english === undefined) expect(section.title).toBeUndefined();
        else expect(section.title).not.toBe(english);
      });
      expect(withoutWords(localized)).toEqual(withoutWords(template));
    }
    expect(titles.size).toBe(builtInTemplates.length);
  });

  it('leaves English, and a tenant template even under a built-in slug, as written', () => {
    const [first] = builtInTemplates;
    expect(localizedTemplate(first!, 'en')).toBe(first);
    const custom: ReportTemplate = { ...first!, builtIn: false };
    expect(localizedTemplate(custom, 'de')).toBe(custom);
  });
});
