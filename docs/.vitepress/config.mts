import { defineConfig } from 'vitepress';

// Dead internal links fail the build (VitePress's default; `ignoreDeadLinks` stays unset), so
// `npm run docs:build`, which `npm test` runs, checks every link between the pages.
export default defineConfig({
  title: 'agentwire',
  description: 'Stream AI agent runs to browsers and programs in real time: an ordered, resumable event log over SSE.',
  cleanUrls: false,
  lastUpdated: false,
  // Pages only included into others (the generated error table) are not pages of their own.
  srcExclude: ['**/_*.md'],
  themeConfig: {
    nav: [
      { text: 'Getting started', link: '/getting-started' },
      { text: 'Guides', link: '/guide/write-an-agent' },
      { text: 'Reference', link: '/reference/http' },
      { text: 'Performance', link: '/performance' },
      { text: 'FAQ', link: '/faq' },
    ],
    sidebar: [
      { text: 'Introduction', items: [
        { text: 'What it is', link: '/' },
        { text: 'Getting started', link: '/getting-started' },
        { text: 'Concepts', link: '/concepts' },
      ] },
      { text: 'Guides', items: [
        { text: 'Write an agent', link: '/guide/write-an-agent' },
        { text: 'Agents you do not write', link: '/guide/ready-made-agents' },
        { text: 'Mount it in your app', link: '/guide/mount' },
        { text: 'The client', link: '/guide/client' },
        { text: 'React', link: '/guide/react' },
        { text: 'The run viewer', link: '/guide/viewer' },
        { text: 'Auth and limits', link: '/guide/auth' },
        { text: 'Transports', link: '/guide/transports' },
        { text: 'Behind a proxy', link: '/guide/proxies' },
        { text: 'Scale-out with Redis', link: '/guide/scale-out' },
        { text: 'Formats: AG-UI, AI SDK', link: '/guide/formats' },
        { text: 'The CLI', link: '/guide/cli' },
        { text: 'Observability', link: '/guide/observability' },
        { text: 'Shutting down', link: '/guide/shutdown' },
      ] },
      { text: 'Reference', items: [
        { text: 'HTTP API', link: '/reference/http' },
        { text: 'Events', link: '/reference/events' },
        { text: 'Errors', link: '/reference/errors' },
        { text: 'Gateway options', link: '/reference/options' },
        { text: 'Entry points', link: '/reference/entry-points' },
      ] },
      { text: 'More', items: [
        { text: 'Performance', link: '/performance' },
        { text: 'Reliability', link: '/reliability' },
        { text: 'How it is tested', link: '/testing' },
        { text: 'FAQ', link: '/faq' },
      ] },
    ],
    outline: { level: [2, 3] },
    search: { provider: 'local' },
  },
});
