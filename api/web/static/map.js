// The pages' maps: progressive enhancement of templates/partials/map.html. Each element with
// `data-map` names the <script type="application/json"> holding its data (api/web/map.py); the
// text alternative beside it stays for everyone. Leaflet is vendored (window.L); a tile layer is
// drawn only when the data carries one (ALLOCATOR_TILE_URL), else the map has a plain background
// and asks nothing of the network.
const L = window.L;

const SCHOOL_CLASSES = {
  "independent special school": "app-map__school app-map__school--independent",
  "resource base in a mainstream school": "app-map__school app-map__school--base",
};

function icon(className, size) {
  return L.divIcon({ className, iconSize: [size, size], html: "" });
}

function schoolText(school) {
  const placed = school.placed === null ? "" : `, ${school.placed} placed`;
  return `${school.name} (${school.kind}): ${school.places} places${placed}`;
}

function siteText(site) {
  const state = site.rank ? `ranked ${site.rank}` : site.opened ? "opened in this run" : "not opened";
  return `${site.name} (candidate site, ${state})`;
}

function legend(data) {
  const control = L.control({ position: "bottomleft" });
  control.onAdd = () => {
    const box = L.DomUtil.create("div", "app-map__legend");
    const rows = [
      ["app-map__school", "special school"],
      ["app-map__school app-map__school--base", "resource base"],
      ["app-map__school app-map__school--independent", "independent school"],
    ];
    if (data.sites.length) rows.push(["app-map__site", "candidate site"]);
    if (data.sites.some((site) => site.opened)) rows.push(["app-map__site app-map__site--opened", "candidate site opened"]);
    for (const [className, text] of rows) {
      const row = L.DomUtil.create("div", "", box);
      L.DomUtil.create("span", `app-map__key ${className}`, row);
      row.appendChild(document.createTextNode(text));
    }
    if (data.districts.length) {
      const note = L.DomUtil.create("div", "", box);
      note.textContent = "dashed lines: district outlines (approximate)";
    }
    return box;
  };
  return control;
}

function draw(panel) {
  const source = document.getElementById(panel.dataset.map);
  const canvas = panel.querySelector(".app-map__canvas");
  if (!L || !source || !canvas) return;
  const data = JSON.parse(source.textContent);
  canvas.hidden = false;
  const map = L.map(canvas, { attributionControl: Boolean(data.tiles), scrollWheelZoom: false });
  if (data.tiles) {
    L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 18 }).addTo(map);
  } else {
    canvas.classList.add("app-map__canvas--plain");
  }
  for (const district of data.districts) {
    L.polygon(district.outline, { color: "#505a5f", weight: 2, dashArray: "6 6", fillOpacity: 0.04, interactive: false }).addTo(map);
    const label = document.createElement("span");
    label.textContent = district.name;
    const note = document.createElement("span");
    note.className = "app-map__district-note";
    note.textContent = "approximate";
    label.append(document.createElement("br"), note);
    L.marker(district.at, { icon: icon("app-map__district-anchor", 0), interactive: false, keyboard: false })
      .bindTooltip(label, { permanent: true, direction: "center", className: "app-map__district-label" })
      .addTo(map);
  }
  for (const school of data.schools) {
    const text = schoolText(school);
    L.marker([school.lat, school.lon], { icon: icon(SCHOOL_CLASSES[school.kind] || "app-map__school", 14), title: text, alt: text })
      .bindTooltip(school.name)
      .addTo(map);
  }
  for (const site of data.sites) {
    const text = siteText(site);
    const className = site.opened ? "app-map__site app-map__site--opened" : "app-map__site";
    L.marker([site.lat, site.lon], { icon: icon(className, 16), title: text, alt: text, zIndexOffset: 1000 })
      .bindTooltip(site.rank ? `${site.rank}. ${site.name}` : site.name, { permanent: Boolean(site.rank) })
      .addTo(map);
  }
  legend(data).addTo(map);
  if (data.bounds) map.fitBounds(data.bounds, { padding: [12, 12] });
  panel.dataset.mapDrawn = "true";
}

for (const panel of document.querySelectorAll("[data-map]")) draw(panel);
