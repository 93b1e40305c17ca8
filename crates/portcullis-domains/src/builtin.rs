//! The built-in domain table and the lists it relies on: what a project gets with no `domains` config.
//! The README's table is checked against [`DEFAULT_DOMAINS`] by a test.

/// The pseudo-domain of JavaScript and TypeScript files whose location says nothing: the nearest
/// `package.json` decides ([`crate::DomainMap::classify_in`]), else the fallback domain.
pub const BY_MANIFEST: &str = "frontend-or-backend";

/// The built-in table, used when the config has no `domains`. First match wins, in this order: tests of
/// every language; infrastructure; frontend and backend by location (monorepo folders, framework folders);
/// frontend and backend by file kind; JavaScript/TypeScript left to the nearest manifest; prose.
pub const DEFAULT_DOMAINS: &[(&str, &[&str])] = &[
    (
        "tests",
        &[
            "tests/**",
            "test/**",
            "spec/**",
            "e2e/**",
            "**/__tests__/**",
            "**/__mocks__/**",
            "**/src/test/**",
            "**/*_test.go",
            "**/*_test.py",
            "**/test_*.py",
            "**/conftest.py",
            "**/*.test.{js,jsx,mjs,cjs,ts,tsx,mts,cts}",
            "**/*.spec.{js,jsx,mjs,cjs,ts,tsx,mts,cts}",
            "**/*_spec.rb",
            "**/*_test.rb",
            "**/*{Test,Tests,IT}.{java,kt,scala,cs,swift,php}",
            "**/*Spec.{scala,kt,groovy}",
            "**/*_test.{exs,dart,zig,lua,c,cc,cpp,rs}",
            "**/test_*.{c,cc,cpp}",
            "**/*.bats",
        ],
    ),
    (
        "infra",
        &[
            "infra/**",
            "infrastructure/**",
            "deploy/**",
            "deployment/**",
            "terraform/**",
            "k8s/**",
            "kubernetes/**",
            "helm/**",
            "charts/**",
            "ansible/**",
            ".github/workflows/**",
            ".gitlab-ci.yml",
            "**/Dockerfile",
            "**/*.Dockerfile",
            "**/*.tf",
            "**/*.tfvars",
            "**/*.hcl",
            "**/docker-compose*.{yml,yaml}",
            "**/compose.{yml,yaml}",
            "**/*.{sh,bash,zsh,ps1}",
        ],
    ),
    (
        "frontend",
        &[
            "frontend/**",
            "web/**",
            "ui/**",
            "client/**",
            "apps/{web,frontend,ui,client,site,www,dashboard,admin,mobile,app}/**",
            "packages/{ui,web,frontend,components,design-system}/**",
        ],
    ),
    (
        "backend",
        &[
            "backend/**",
            "server/**",
            "api/**",
            "cmd/**",
            "internal/**",
            "services/**",
            "apps/{api,server,backend,worker,workers,gateway}/**",
            "db/**",
        ],
    ),
    (
        "frontend",
        &[
            "**/components/**",
            "**/pages/**/*.{js,jsx,mjs,cjs,ts,tsx,mts,cts}",
            "app/**/*.{js,jsx,mjs,cjs,ts,tsx,mts,cts}",
            "src/app/**/*.{js,jsx,mjs,cjs,ts,tsx,mts,cts}",
            "public/**",
            "static/**",
            "assets/**",
        ],
    ),
    (
        "backend",
        &[
            "**/migrations/**",
            "**/routes/**",
            "**/controllers/**",
            "**/models/**",
            "**/handlers/**",
            "**/middleware/**",
        ],
    ),
    (
        "frontend",
        &[
            "**/*.{tsx,jsx,vue,svelte,astro}",
            "**/*.{css,scss,sass,less,styl}",
            "**/*.{html,htm}",
            "**/*.{swift,m,mm,dart}",
        ],
    ),
    (
        "backend",
        &[
            "**/*.{go,rs,py,pyi,java,kt,kts,scala,sc,groovy,rb,php,cs,fs,vb}",
            "**/*.{ex,exs,erl,hrl,clj,cljs,hs,ml,mli,nim,cr,jl,pl,pm,r,R}",
            "**/*.{c,h,cc,cpp,cxx,hpp,hh,hxx,zig,lua}",
            "**/*.{sql,proto,graphql,gql,prisma}",
        ],
    ),
    (BY_MANIFEST, &["**/*.{js,mjs,cjs,ts,mts,cts}"]),
    (
        "docs",
        &["docs/**", "**/*.md", "**/*.mdx", "**/*.rst", "**/*.adoc"],
    ),
];

/// File extensions that are source code: a file with one that no domain claims goes to the fallback
/// domain ([`crate::FallbackDomain`]). Notes, plans, licences and data are not here: they stay free.
pub const SOURCE_EXTENSIONS: &[&str] = &[
    "js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts", "vue", "svelte", "astro", "go", "rs",
    "py", "pyi", "java", "kt", "kts", "scala", "sc", "groovy", "rb", "php", "cs", "fs", "vb", "ex",
    "exs", "erl", "hrl", "clj", "cljs", "hs", "ml", "mli", "nim", "cr", "jl", "pl", "pm", "r", "c",
    "h", "cc", "cpp", "cxx", "hpp", "hh", "hxx", "zig", "lua", "swift", "m", "mm", "dart", "sql",
    "proto", "graphql", "gql", "prisma", "sh", "bash", "zsh", "ps1", "tf", "hcl", "css", "scss",
    "sass", "less", "html", "elm", "purs", "v", "sv", "vhd", "asm", "s", "f90", "cob", "d", "odin",
    "gleam", "sol",
];

/// Dependencies in a `package.json` that make its package UI code.
pub const UI_PACKAGES: &[&str] = &[
    "react",
    "react-dom",
    "react-native",
    "expo",
    "vue",
    "nuxt",
    "svelte",
    "@sveltejs/kit",
    "@angular/core",
    "next",
    "solid-js",
    "preact",
    "astro",
    "lit",
    "@remix-run/react",
    "ember-source",
    "@builder.io/qwik",
    "vite",
    "@vitejs/plugin-react",
];

/// Dependencies in a `package.json` that make its package server code.
pub const SERVER_PACKAGES: &[&str] = &[
    "express",
    "fastify",
    "koa",
    "@nestjs/core",
    "@hapi/hapi",
    "hapi",
    "hono",
    "@adonisjs/core",
    "restify",
    "@apollo/server",
    "apollo-server",
    "@trpc/server",
    "socket.io",
    "pg",
    "mysql2",
    "mongoose",
    "sequelize",
    "typeorm",
    "prisma",
    "@prisma/client",
    "knex",
    "drizzle-orm",
];
